"""Listeners told when list memberships change (segments on group membership), in the same transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

# (session, account_id, list_id, profile_ids)
Listener = Callable[[Session, str, str, list[str]], None]
_listeners: list[Listener] = []


def on_membership_changed(listener: Listener) -> Listener:
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def notify(session: Session, account_id: str, list_id: str, profile_ids: list[str]) -> None:
    if profile_ids:
        for listener in _listeners:
            listener(session, account_id, list_id, profile_ids)
