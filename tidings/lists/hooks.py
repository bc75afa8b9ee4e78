"""Listeners told when list memberships change (segments on group membership), in the same transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from tidings.hooks import Hook

# (session, account_id, list_id, profile_ids)
Listener = Callable[[Session, str, str, list[str]], None]
MEMBERSHIP_CHANGED: Hook[Listener] = Hook("list memberships changed")


def notify(session: Session, account_id: str, list_id: str, profile_ids: list[str]) -> None:
    if profile_ids:
        for listener in MEMBERSHIP_CHANGED:
            listener(session, account_id, list_id, profile_ids)
