"""Queries on templates and universal content; every one scoped by account."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tidings.jsonapi.filters import FilterField, Node, compile_filter
from tidings.templates.tables import Template, UniversalContent

TEMPLATE_FILTERS = {
    "id": FilterField(Template.id),
    "name": FilterField(Template.name),
    "created": FilterField(Template.created, kind="datetime"),
    "updated": FilterField(Template.updated, kind="datetime"),
}
TEMPLATE_SORTS = {
    "id": Template.id,
    "name": Template.name,
    "created": Template.created,
    "updated": Template.updated,
}

UNIVERSAL_FILTERS = {
    "id": FilterField(UniversalContent.id),
    "name": FilterField(UniversalContent.name),
    "created": FilterField(UniversalContent.created, kind="datetime"),
    "updated": FilterField(UniversalContent.updated, kind="datetime"),
    "definition.content_type": FilterField(UniversalContent.content_type),
    "definition.type": FilterField(UniversalContent.block_type),
}
UNIVERSAL_SORTS = {
    "id": UniversalContent.id,
    "name": UniversalContent.name,
    "created": UniversalContent.created,
    "updated": UniversalContent.updated,
}


def get_template(session: Session, account_id: str, template_id: str) -> Template | None:
    return session.get(Template, (account_id, template_id))


def template_exists(session: Session, account_id: str, template_id: str) -> bool:
    stmt = select(Template.id).where(Template.account_id == account_id, Template.id == template_id)
    return session.execute(stmt).first() is not None


def count_templates(session: Session, account_id: str) -> int:
    stmt = select(func.count()).select_from(Template).where(Template.account_id == account_id)
    return int(session.execute(stmt).scalar_one())


def templates_query(account_id: str, filter_node: Node | None) -> Select[Any]:
    stmt = select(Template).where(Template.account_id == account_id)
    if filter_node is not None:
        stmt = stmt.where(compile_filter(filter_node, TEMPLATE_FILTERS))
    return stmt


def get_universal(session: Session, account_id: str, content_id: str) -> UniversalContent | None:
    return session.get(UniversalContent, (account_id, content_id))


def existing_universal_ids(session: Session, account_id: str, ids: Iterable[str]) -> set[str]:
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    stmt = select(UniversalContent.id).where(
        UniversalContent.account_id == account_id, UniversalContent.id.in_(wanted)
    )
    return set(session.execute(stmt).scalars())


def universal_query(account_id: str, filter_node: Node | None) -> Select[Any]:
    stmt = select(UniversalContent).where(UniversalContent.account_id == account_id)
    if filter_node is not None:
        stmt = stmt.where(compile_filter(filter_node, UNIVERSAL_FILTERS))
    return stmt
