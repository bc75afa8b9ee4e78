"""Work gathered during a transaction and enqueued as few jobs when it commits.

A request that writes a profile, its consent and its events, or a bulk job that touches a
thousand profiles one by one, asks many times for the same follow-up work; `gather` collects
the ids and, when the transaction commits (still inside it), enqueues one job per name,
account and tag. An id asked for twice keeps its first tag. A savepoint's commit does not
flush; a rollback forgets everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from tidings.jobs.queue import enqueue

_GATHERED = "jobs.gathered"

# (job name, account id, ids key, tag key) -> {id: tag}
Gathered = dict[tuple[str, str, str, str], dict[str, str]]


def gather(
    session: Session,
    name: str,
    account_id: str,
    ids: Iterable[str],
    tag: str,
    *,
    ids_key: str = "profile_ids",
    tag_key: str = "reason",
) -> None:
    """Ask for job `name` with these ids (payload `{ids_key: [...], tag_key: tag}`) at commit."""
    gathered = transaction_scoped(session, _GATHERED)
    tags: dict[str, str] = gathered.setdefault((name, account_id, ids_key, tag_key), {})
    for item in ids:
        tags.setdefault(item, tag)


def transaction_scoped(session: Session, key: str) -> dict[Any, Any]:
    """A dict in `session.info` that lives as long as the session's current root transaction."""
    root = session.get_transaction() or session.begin()  # the root, even inside a savepoint
    held: tuple[SessionTransaction, dict[Any, Any]] | None = session.info.get(key)
    if held is None or held[0] is not root:  # nothing yet, or left over from an ended transaction
        held = (root, {})
        session.info[key] = held
    return held[1]


@event.listens_for(Session, "before_commit")
def _enqueue_gathered(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's commit: the transaction goes on
    held = session.info.pop(_GATHERED, None)
    if held is None or held[0] is not session.get_transaction():
        return
    gathered: Gathered = held[1]
    for (name, account_id, ids_key, tag_key), tags in gathered.items():
        by_tag: dict[str, list[str]] = {}
        for item, tag in tags.items():
            by_tag.setdefault(tag, []).append(item)
        for tag, ids in sorted(by_tag.items()):
            enqueue(session, name, {ids_key: sorted(ids), tag_key: tag}, account_id=account_id)
