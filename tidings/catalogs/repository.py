"""Catalog queries. Every one is scoped by account."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.orm import Session

from tidings.catalogs.ids import MalformedId, external_id_of
from tidings.catalogs.tables import (
    BackInStockSubscription,
    CatalogBulkJob,
    CatalogCategory,
    CatalogItem,
    CatalogItemCategory,
    CatalogVariant,
)
from tidings.db.dialect import insert_ignore
from tidings.jsonapi.errors import InvalidInput
from tidings.jsonapi.filters import FilterField


def get_item(
    session: Session, account_id: str, item_id: str, *, key_share: bool = False
) -> CatalogItem | None:
    """With key_share, the row is locked against deletion until the transaction ends (what a
    foreign key check would do; SQLite has a single writer and needs no lock)."""
    if key_share:
        return session.get(CatalogItem, (account_id, item_id), with_for_update={"key_share": True})
    return session.get(CatalogItem, (account_id, item_id))


def get_variant(session: Session, account_id: str, variant_id: str) -> CatalogVariant | None:
    return session.get(CatalogVariant, (account_id, variant_id))


def get_category(session: Session, account_id: str, category_id: str) -> CatalogCategory | None:
    return session.get(CatalogCategory, (account_id, category_id))


def existing_ids(session: Session, model: Any, account_id: str, ids: Iterable[str]) -> set[str]:
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    rows = session.execute(select(model.id).where(model.account_id == account_id, model.id.in_(wanted)))
    return {row[0] for row in rows}


# ------------------------------------------------------------------------------ listings


def items_query(account_id: str) -> Select[Any]:
    return select(CatalogItem).where(CatalogItem.account_id == account_id)


def variants_query(account_id: str) -> Select[Any]:
    return select(CatalogVariant).where(CatalogVariant.account_id == account_id)


def categories_query(account_id: str) -> Select[Any]:
    return select(CatalogCategory).where(CatalogCategory.account_id == account_id)


def _text(value: Any) -> str:
    if "\x00" in str(value):
        raise InvalidInput("Invalid filter: values may not contain NUL characters.", parameter="filter")
    return str(value)


def equals_text(column: Any) -> FilterField:
    return FilterField(build=lambda _op, value: column == _text(value))


def _compound_ids(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    for item in values:
        try:
            external_id_of(str(item))
        except MalformedId as exc:
            raise InvalidInput(f"Invalid filter: {exc}", parameter="filter") from None
    return [str(item) for item in values]


def _contains(column: Any) -> Any:
    # Case-insensitive on both databases (SQLite's LIKE folds ASCII only, PostgreSQL's not at all).
    return lambda _op, value: func.lower(column).contains(_text(value).lower(), autoescape=True)


def _ids(column: Any) -> Any:
    return lambda _op, value: column.in_(_compound_ids(value))


def _one_id(build: Any) -> Any:
    return lambda _op, value: build(_compound_ids(value)[0])


def item_filters(account_id: str) -> dict[str, FilterField]:
    def in_category(category_id: str) -> ColumnElement[bool]:
        members = select(CatalogItemCategory.item_id).where(
            CatalogItemCategory.account_id == account_id, CatalogItemCategory.category_id == category_id
        )
        return CatalogItem.id.in_(members)

    return {
        "ids": FilterField(build=_ids(CatalogItem.id)),
        "category.id": FilterField(build=_one_id(in_category)),
        "title": FilterField(build=_contains(CatalogItem.title)),
        "published": FilterField(CatalogItem.published, kind="boolean"),
    }


def variant_filters() -> dict[str, FilterField]:
    return {
        "ids": FilterField(build=_ids(CatalogVariant.id)),
        "item.id": FilterField(build=_one_id(lambda item_id: CatalogVariant.item_id == item_id)),
        "sku": equals_text(CatalogVariant.sku),
        "title": FilterField(build=_contains(CatalogVariant.title)),
        "published": FilterField(CatalogVariant.published, kind="boolean"),
    }


def category_filters(account_id: str) -> dict[str, FilterField]:
    def holding(item_id: str) -> ColumnElement[bool]:
        holders = select(CatalogItemCategory.category_id).where(
            CatalogItemCategory.account_id == account_id, CatalogItemCategory.item_id == item_id
        )
        return CatalogCategory.id.in_(holders)

    return {
        "ids": FilterField(build=_ids(CatalogCategory.id)),
        "item.id": FilterField(build=_one_id(holding)),
        "name": FilterField(build=_contains(CatalogCategory.name)),
    }


def variants_of_items(
    session: Session, account_id: str, item_ids: Sequence[str]
) -> dict[str, list[CatalogVariant]]:
    """Every variant of the given items, in one query (no N+1 on listings with include=variants)."""
    out: dict[str, list[CatalogVariant]] = {item_id: [] for item_id in item_ids}
    if not item_ids:
        return out
    rows = session.execute(
        select(CatalogVariant)
        .where(CatalogVariant.account_id == account_id, CatalogVariant.item_id.in_(list(item_ids)))
        .order_by(CatalogVariant.created, CatalogVariant.id)
    ).scalars()
    for variant in rows:
        out[variant.item_id].append(variant)
    return out


def category_ids_of_item(session: Session, account_id: str, item_id: str) -> list[str]:
    rows = session.execute(
        select(CatalogItemCategory.category_id)
        .where(CatalogItemCategory.account_id == account_id, CatalogItemCategory.item_id == item_id)
        .order_by(CatalogItemCategory.category_id)
    )
    return [row[0] for row in rows]


# ------------------------------------------------------------------------------ item <-> category


def link(session: Session, account_id: str, pairs: Iterable[tuple[str, str]]) -> None:
    rows = [{"account_id": account_id, "item_id": i, "category_id": c} for i, c in sorted(set(pairs))]
    if rows:
        session.execute(insert_ignore(session, CatalogItemCategory.__table__, rows))  # type: ignore[arg-type]


def unlink(
    session: Session,
    account_id: str,
    *,
    item_id: str | None = None,
    category_id: str | None = None,
    item_ids: Iterable[str] | None = None,
    category_ids: Iterable[str] | None = None,
) -> None:
    stmt = delete(CatalogItemCategory).where(CatalogItemCategory.account_id == account_id)
    if item_id is not None:
        stmt = stmt.where(CatalogItemCategory.item_id == item_id)
    if category_id is not None:
        stmt = stmt.where(CatalogItemCategory.category_id == category_id)
    if item_ids is not None:
        stmt = stmt.where(CatalogItemCategory.item_id.in_(sorted(set(item_ids))))
    if category_ids is not None:
        stmt = stmt.where(CatalogItemCategory.category_id.in_(sorted(set(category_ids))))
    session.execute(stmt)


# ------------------------------------------------------------------------------ jobs, back in stock


def get_bulk_job(session: Session, account_id: str, job_type: str, job_id: str) -> CatalogBulkJob | None:
    job = session.get(CatalogBulkJob, (account_id, job_id))
    return job if job is not None and job.job_type == job_type else None


def bulk_jobs_query(account_id: str, job_type: str) -> Select[Any]:
    return select(CatalogBulkJob).where(
        CatalogBulkJob.account_id == account_id, CatalogBulkJob.job_type == job_type
    )


def jobs_in_progress(session: Session, account_id: str) -> int:
    return int(
        session.execute(
            select(func.count()).where(
                CatalogBulkJob.account_id == account_id,
                CatalogBulkJob.status.in_(("queued", "processing")),
            )
        ).scalar_one()
    )


def subscriptions_for_variant(
    session: Session, account_id: str, variant_id: str
) -> list[BackInStockSubscription]:
    return list(
        session.execute(
            select(BackInStockSubscription)
            .where(
                BackInStockSubscription.account_id == account_id,
                BackInStockSubscription.variant_id == variant_id,
            )
            .order_by(BackInStockSubscription.created, BackInStockSubscription.id)
        ).scalars()
    )


def category_names_of_item(session: Session, account_id: str, item_id: str) -> list[str]:
    rows = session.execute(
        select(CatalogCategory.name)
        .join(
            CatalogItemCategory,
            (CatalogItemCategory.account_id == CatalogCategory.account_id)
            & (CatalogItemCategory.category_id == CatalogCategory.id),
        )
        .where(CatalogItemCategory.account_id == account_id, CatalogItemCategory.item_id == item_id)
        .order_by(CatalogCategory.name)
    )
    return [row[0] for row in rows]


def category_names_of_items(
    session: Session, account_id: str, item_ids: Sequence[str]
) -> dict[str, list[str]]:
    """The category names of many items, in one query."""
    out: dict[str, list[str]] = {item_id: [] for item_id in item_ids}
    if not item_ids:
        return out
    rows = session.execute(
        select(CatalogItemCategory.item_id, CatalogCategory.name)
        .join(
            CatalogItemCategory,
            (CatalogItemCategory.account_id == CatalogCategory.account_id)
            & (CatalogItemCategory.category_id == CatalogCategory.id),
        )
        .where(CatalogItemCategory.account_id == account_id, CatalogItemCategory.item_id.in_(list(item_ids)))
        .order_by(CatalogItemCategory.item_id, CatalogCategory.name)
    )
    for item_id, name in rows:
        out[item_id].append(name)
    return out
