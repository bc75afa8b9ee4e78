"""Queries on tag groups, tags and taggings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.dialect import insert_ignore
from tidings.jsonapi.filters import FilterField
from tidings.tags.tables import Tag, Tagging, TagGroup

TAG_FILTERS: dict[str, FilterField] = {"name": FilterField(Tag.name)}
TAG_SORTS = {"id": Tag.id, "name": Tag.name}
GROUP_FILTERS: dict[str, FilterField] = {
    "name": FilterField(TagGroup.name),
    "exclusive": FilterField(TagGroup.exclusive, kind="boolean"),
    "default": FilterField(TagGroup.default, kind="boolean"),
}
GROUP_SORTS = {"id": TagGroup.id, "name": TagGroup.name}


def groups_query(account_id: str) -> Select[tuple[TagGroup]]:
    return select(TagGroup).where(TagGroup.account_id == account_id)


def tags_query(account_id: str) -> Select[tuple[Tag]]:
    return select(Tag).where(Tag.account_id == account_id)


def get_group(session: Session, account_id: str, group_id: str) -> TagGroup | None:
    return session.get(TagGroup, (account_id, group_id))


def default_group(session: Session, account_id: str) -> TagGroup | None:
    stmt = groups_query(account_id).where(TagGroup.default.is_(True))
    return session.execute(stmt).scalars().first()


def group_named(session: Session, account_id: str, name: str) -> TagGroup | None:
    return session.execute(groups_query(account_id).where(TagGroup.name == name)).scalars().first()


def count_groups(session: Session, account_id: str) -> int:
    stmt = select(func.count()).select_from(TagGroup).where(TagGroup.account_id == account_id)
    return int(session.execute(stmt).scalar_one())


def get_tag(session: Session, account_id: str, tag_id: str) -> Tag | None:
    return session.get(Tag, (account_id, tag_id))


def tag_named(session: Session, account_id: str, name: str) -> Tag | None:
    return session.execute(tags_query(account_id).where(Tag.name == name)).scalars().first()


def count_tags(session: Session, account_id: str) -> int:
    stmt = select(func.count()).select_from(Tag).where(Tag.account_id == account_id)
    return int(session.execute(stmt).scalar_one())


def tags_in_group(session: Session, account_id: str, group_id: str) -> list[Tag]:
    stmt = tags_query(account_id).where(Tag.tag_group_id == group_id).order_by(Tag.id)
    return list(session.execute(stmt).scalars())


def groups_by_ids(session: Session, account_id: str, group_ids: Sequence[str]) -> dict[str, TagGroup]:
    if not group_ids:
        return {}
    stmt = groups_query(account_id).where(TagGroup.id.in_(sorted(set(group_ids))))
    return {group.id: group for group in session.execute(stmt).scalars()}


def tagged_ids(session: Session, account_id: str, tag_id: str, kind: str) -> list[str]:
    stmt = (
        select(Tagging.resource_id)
        .where(Tagging.account_id == account_id, Tagging.tag_id == tag_id, Tagging.resource_kind == kind)
        .order_by(Tagging.resource_id)
    )
    return list(session.execute(stmt).scalars())


def tags_of(
    session: Session, account_id: str, kind: str, resource_ids: Sequence[str]
) -> dict[str, list[Tag]]:
    """Each resource's tags, by name, in one query (no N+1 on a page of lists)."""
    found: dict[str, list[Tag]] = defaultdict(list)
    if not resource_ids:
        return found
    stmt = (
        select(Tagging.resource_id, Tag)
        .join(Tag, (Tag.account_id == Tagging.account_id) & (Tag.id == Tagging.tag_id))
        .where(
            Tagging.account_id == account_id,
            Tagging.resource_kind == kind,
            Tagging.resource_id.in_(sorted(set(resource_ids))),
        )
        .order_by(Tag.name, Tag.id)
    )
    for resource_id, tag in session.execute(stmt):
        found[resource_id].append(tag)
    return found


def add_taggings(
    session: Session, account_id: str, tag_id: str, kind: str, resource_ids: Sequence[str]
) -> None:
    """Insert-or-ignore: a tagging made meanwhile by another request stays as it is."""
    now = utcnow()
    rows = [
        {"account_id": account_id, "tag_id": tag_id, "resource_kind": kind, "resource_id": i, "created": now}
        for i in dict.fromkeys(resource_ids)
    ]
    if rows:
        session.execute(insert_ignore(session, Tagging.__table__, rows))  # type: ignore[arg-type]


def remove_taggings(
    session: Session, account_id: str, kind: str, resource_ids: Sequence[str], tag_id: str | None = None
) -> None:
    if not resource_ids:
        return
    stmt = delete(Tagging).where(
        Tagging.account_id == account_id,
        Tagging.resource_kind == kind,
        Tagging.resource_id.in_(sorted(set(resource_ids))),
    )
    if tag_id is not None:
        stmt = stmt.where(Tagging.tag_id == tag_id)
    session.execute(stmt)


def remove_taggings_of_tags(session: Session, account_id: str, tag_ids: Sequence[str]) -> None:
    if tag_ids:
        session.execute(
            delete(Tagging).where(Tagging.account_id == account_id, Tagging.tag_id.in_(list(tag_ids)))
        )
