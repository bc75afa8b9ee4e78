"""Flows as a kind of resource tags are put on (registered by the composition root)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.flows.tables import Flow
from tidings.tags.kinds import Taggable


def _existing(session: Session, account_id: str, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    stmt = select(Flow.id).where(Flow.account_id == account_id, Flow.id.in_(ids))
    return set(session.execute(stmt).scalars())


FLOWS = Taggable("flow", _existing)
