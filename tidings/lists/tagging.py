"""Lists as a kind of resource tags are put on (registered by the composition root)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.lists import repository
from tidings.tags.kinds import Taggable


def _existing(session: Session, account_id: str, ids: list[str]) -> set[str]:
    return set(repository.lists_by_ids(session, account_id, ids))


LISTS = Taggable("list", _existing)
