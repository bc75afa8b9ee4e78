"""Paginated, filtered listings of items, variants, categories and bulk jobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tidings.catalogs import repository, service
from tidings.catalogs.tables import (
    CatalogBulkJob,
    CatalogCategory,
    CatalogItem,
    CatalogItemCategory,
    CatalogVariant,
)
from tidings.jsonapi.filters import FilterField, compile_filter
from tidings.jsonapi.pagination import Page, paginate
from tidings.jsonapi.params import QueryParams

JOB_PAGE_SIZE = 100  # "Returns a maximum of 100 jobs per request."


def _page(
    session: Session,
    stmt: Select[Any],
    model: Any,
    params: QueryParams,
    operation: str,
    filters: dict[str, FilterField],
    *,
    size: int | None = None,
    sort_column: Any = None,
) -> Page:
    if params.filter is not None:
        stmt = stmt.where(compile_filter(params.filter, filters))
    return paginate(
        session,
        stmt,
        operation=operation,
        sort_column=sort_column if sort_column is not None else model.created,
        id_column=model.id,
        descending=params.descending,
        size=size or params.page_size,
        cursor=params.cursor,
        sort=params.sort,
        filter_text=params.filter_text,
    )


def items(
    session: Session, account_id: str, params: QueryParams, operation: str, *, category_id: str | None = None
) -> Page:
    stmt = repository.items_query(account_id)
    if category_id is not None:
        category = service.get_category(session, account_id, category_id)
        members = select(CatalogItemCategory.item_id).where(
            CatalogItemCategory.account_id == account_id, CatalogItemCategory.category_id == category.id
        )
        stmt = stmt.where(CatalogItem.id.in_(members))
    return _page(session, stmt, CatalogItem, params, operation, repository.item_filters(account_id))


def variants(
    session: Session, account_id: str, params: QueryParams, operation: str, *, item_id: str | None = None
) -> Page:
    stmt = repository.variants_query(account_id)
    if item_id is not None:
        item = service.get_item(session, account_id, item_id)
        stmt = stmt.where(CatalogVariant.item_id == item.id)
    return _page(session, stmt, CatalogVariant, params, operation, repository.variant_filters())


def categories(
    session: Session, account_id: str, params: QueryParams, operation: str, *, item_id: str | None = None
) -> Page:
    stmt = repository.categories_query(account_id)
    if item_id is not None:
        item = service.get_item(session, account_id, item_id)
        holders = select(CatalogItemCategory.category_id).where(
            CatalogItemCategory.account_id == account_id, CatalogItemCategory.item_id == item.id
        )
        stmt = stmt.where(CatalogCategory.id.in_(holders))
    return _page(session, stmt, CatalogCategory, params, operation, repository.category_filters(account_id))


def bulk_jobs(session: Session, account_id: str, job_type: str, params: QueryParams, operation: str) -> Page:
    filters = {"status": repository.equals_text(CatalogBulkJob.status)}
    return _page(
        session,
        repository.bulk_jobs_query(account_id, job_type),
        CatalogBulkJob,
        params,
        operation,
        filters,
        size=params.page_size if params.cursor is not None else JOB_PAGE_SIZE,
        sort_column=CatalogBulkJob.created_at,
    )
