"""Price and inventory history: every change is written in the transaction that makes it.

Flows fire Back in Stock, Price Drop and Low Inventory triggers from this history. They
can read it (`changes_since`) or listen on `CATALOG_CHANGED` (registered by the composition
root): a listener runs in the writer's transaction and should only enqueue work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.catalogs.tables import CatalogChange
from tidings.db.base import utcnow
from tidings.db.dialect import bulk_upsert
from tidings.db.ids import ulids
from tidings.hooks import Hook

TRACKED_ITEM = ("price",)
TRACKED_VARIANT = ("price", "inventory_quantity")


@dataclass(frozen=True)
class Change:
    resource_type: str  # catalog-item | catalog-variant
    resource_id: str
    item_id: str
    field: str
    old_value: float | None
    new_value: float | None


Listener = Callable[[Session, str, list[Change]], None]
CATALOG_CHANGED: Hook[Listener] = Hook("catalog prices and inventory changed")


def diff(
    resource_type: str,
    resource_id: str,
    item_id: str,
    old: dict[str, Any] | None,
    new: dict[str, Any],
) -> list[Change]:
    """The tracked fields whose value differs. A new resource (old None) is not a change."""
    if old is None:
        return []
    fields = TRACKED_VARIANT if resource_type == "catalog-variant" else TRACKED_ITEM
    out = []
    for name in fields:
        if name in new and _number(old.get(name)) != _number(new[name]):
            out.append(Change(resource_type, resource_id, item_id, name, old.get(name), new[name]))
    return out


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def record(session: Session, account_id: str, changes: Sequence[Change], *, source: str) -> None:
    if not changes:
        return
    ids = ulids(len(changes))
    bulk_upsert(
        session,
        CatalogChange.__table__,  # type: ignore[arg-type]
        [
            {
                "id": change_id,
                "resource_type": c.resource_type,
                "resource_id": c.resource_id,
                "item_id": c.item_id,
                "field": c.field,
                "old_value": c.old_value,
                "new_value": c.new_value,
            }
            for change_id, c in zip(ids, changes, strict=True)
        ],
        index_elements=["account_id", "id"],
        constants={"account_id": account_id, "source": source, "changed_at": utcnow()},
    )
    for listener in CATALOG_CHANGED:
        listener(session, account_id, list(changes))


def changes_since(
    session: Session,
    account_id: str,
    *,
    after_id: str | None = None,
    since: dt.datetime | None = None,
    resource_id: str | None = None,
    limit: int = 1000,
) -> list[CatalogChange]:
    """The account's changes in time order, after a change id and/or since a time."""
    stmt = select(CatalogChange).where(CatalogChange.account_id == account_id)
    if after_id is not None:
        stmt = stmt.where(CatalogChange.id > after_id)
    if since is not None:
        stmt = stmt.where(CatalogChange.changed_at >= since)
    if resource_id is not None:
        stmt = stmt.where(CatalogChange.resource_id == resource_id)
    return list(session.execute(stmt.order_by(CatalogChange.id).limit(limit)).scalars())
