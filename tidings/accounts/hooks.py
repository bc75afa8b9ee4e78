"""Listeners told when an account is created, in the same transaction (the tags domain makes the
account's default tag group)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from tidings.hooks import Hook

# (session, account_id)
Listener = Callable[[Session, str], None]
ACCOUNT_CREATED: Hook[Listener] = Hook("account created")


def notify(session: Session, account_id: str) -> None:
    for listener in ACCOUNT_CREATED:
        listener(session, account_id)
