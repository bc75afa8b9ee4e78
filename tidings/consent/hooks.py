"""Listeners told when a subscription waits for double opt-in, in the subscribing transaction.

Subscribing email marketing through a double opt-in list leaves consent unchanged and remembers
the request; the person confirms through a link in an email. Consent stands below delivery and
does not send anything: delivery listens here (registered by the composition root) and plans the
confirmation email in the same transaction, so it goes out if and only if the request committed.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from tidings.hooks import Hook

# (session, account_id, profile_id, list_id): list_id None when no list was named
Listener = Callable[[Session, str, str, str | None], None]
DOUBLE_OPTIN_REQUESTED: Hook[Listener] = Hook("double opt-in requested")


def notify(session: Session, account_id: str, profile_id: str, list_id: str | None) -> None:
    for listener in DOUBLE_OPTIN_REQUESTED:
        listener(session, account_id, profile_id, list_id)
