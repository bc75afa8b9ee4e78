"""Listeners told when profiles change, in the writer's transaction.

Every profile write path calls `notify`: identity resolution (REST create/update/
create-or-update, `/client` profiles, profile blocks of events, imports, subscriptions),
merges and unmerges, consent and suppression changes, push tokens, privacy deletion.
Segments listen here (profile-property and consent conditions), as they do on `events.hooks`
and `lists.hooks`, registered by the composition root, so the profiles domain knows none of
its listeners. A listener should enqueue work rather than do much itself.

`reason` says what changed: "profile" (identifiers or attributes, or a new profile),
"merge", "consent", "push_token", "deleted".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

from tidings.hooks import Hook

# (session, account_id, profile_ids, reason)
Listener = Callable[[Session, str, list[str], str], None]
PROFILES_CHANGED: Hook[Listener] = Hook("profiles changed")


def notify(session: Session, account_id: str, profile_ids: Iterable[str], reason: str) -> None:
    ids = sorted(set(profile_ids))
    if ids:
        for listener in PROFILES_CHANGED:
            listener(session, account_id, ids, reason)
