"""Tag groups, tags and taggings, with Klaviyo's rules: every account has one default tag group
(made with the account; it cannot be deleted), at most 50 tag groups and 500 tags, names unique in
the account, at most 100 tags on one resource, and in an exclusive group at most one tag on one
resource. Deleting a tag removes its taggings; deleting a group removes its tags."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.jsonapi.errors import APIError, Conflict, ErrorList, InvalidInput, NotFound
from tidings.tags import kinds, repository
from tidings.tags.tables import Tag, TagGroup

DEFAULT_GROUP_NAME = "Default Tag Group"
MAX_GROUPS = 50
MAX_TAGS = 500
MAX_TAGS_PER_RESOURCE = 100
NAME = "/data/attributes/name"


def _new_id() -> str:
    return str(uuid.uuid4())


def _name(name: str, what: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput(f"A {what} needs a name.", pointer=NAME)
    return name


def _same_id(body_id: str, url_id: str) -> None:
    if body_id != url_id:
        raise Conflict(
            f"The id in the body ({body_id}) does not match the URL ({url_id}).", pointer="/data/id"
        )


# ------------------------------------------------------------------------------- tag groups


def create_default_group(session: Session, account_id: str) -> None:
    """Make the account's default tag group (with the account; the migration made the others')."""
    default_group(session, account_id)


def default_group(session: Session, account_id: str) -> TagGroup:
    found = repository.default_group(session, account_id)
    if found is not None:
        return found
    group = TagGroup(
        account_id=account_id, id=_new_id(), name=DEFAULT_GROUP_NAME, exclusive=False, default=True
    )
    session.add(group)
    session.flush()
    return group


def get_group(session: Session, account_id: str, group_id: str) -> TagGroup:
    found = repository.get_group(session, account_id, group_id)
    if found is None:
        raise NotFound(f"A tag group with id {group_id} does not exist.")
    return found


def _unique_group_name(session: Session, account_id: str, name: str, group_id: str | None = None) -> None:
    other = repository.group_named(session, account_id, name)
    if other is not None and other.id != group_id:
        raise Conflict(f"A tag group named {name!r} already exists (id {other.id}).", pointer=NAME)


def create_group(session: Session, account_id: str, name: str, exclusive: bool | None) -> TagGroup:
    name = _name(name, "tag group")
    default_group(session, account_id)
    _unique_group_name(session, account_id, name)
    if repository.count_groups(session, account_id) >= MAX_GROUPS:
        raise InvalidInput(f"An account cannot have more than {MAX_GROUPS} tag groups.", pointer="/data")
    group = TagGroup(account_id=account_id, id=_new_id(), name=name, exclusive=bool(exclusive), default=False)
    session.add(group)
    _flush_unique(session, f"A tag group named {name!r} already exists.")
    return group


def rename_group(session: Session, account_id: str, group_id: str, body_id: str, name: str) -> TagGroup:
    _same_id(body_id, group_id)
    group = get_group(session, account_id, group_id)
    name = _name(name, "tag group")
    _unique_group_name(session, account_id, name, group_id)
    group.name = name
    _flush_unique(session, f"A tag group named {name!r} already exists.")
    return group


def delete_group(session: Session, account_id: str, group_id: str) -> None:
    group = get_group(session, account_id, group_id)
    if group.default:
        raise InvalidInput("The default tag group cannot be deleted.", parameter="id")
    tags = repository.tags_in_group(session, account_id, group_id)
    repository.remove_taggings_of_tags(session, account_id, [tag.id for tag in tags])
    for tag in tags:
        session.delete(tag)
    session.flush()
    session.delete(group)
    session.flush()


# ------------------------------------------------------------------------------------- tags


def get_tag(session: Session, account_id: str, tag_id: str) -> Tag:
    found = repository.get_tag(session, account_id, tag_id)
    if found is None:
        raise NotFound(f"A tag with id {tag_id} does not exist.")
    return found


def _unique_tag_name(session: Session, account_id: str, name: str, tag_id: str | None = None) -> None:
    other = repository.tag_named(session, account_id, name)
    if other is not None and other.id != tag_id:
        raise Conflict(f"A tag named {name!r} already exists (id {other.id}).", pointer=NAME)


def create_tag(session: Session, account_id: str, name: str, group_id: str | None) -> Tag:
    name = _name(name, "tag")
    if group_id is None:
        group = default_group(session, account_id)
    else:
        found = repository.get_group(session, account_id, group_id)
        if found is None:
            raise NotFound(
                f"A tag group with id {group_id} does not exist.",
                pointer="/data/relationships/tag-group/data/id",
            )
        group = found
    _unique_tag_name(session, account_id, name)
    if repository.count_tags(session, account_id) >= MAX_TAGS:
        raise InvalidInput(f"An account cannot have more than {MAX_TAGS} tags.", pointer="/data")
    tag = Tag(account_id=account_id, id=_new_id(), tag_group_id=group.id, name=name, created=utcnow())
    session.add(tag)
    _flush_unique(session, f"A tag named {name!r} already exists.")
    return tag


def rename_tag(session: Session, account_id: str, tag_id: str, body_id: str, name: str) -> Tag:
    _same_id(body_id, tag_id)
    tag = get_tag(session, account_id, tag_id)
    name = _name(name, "tag")
    _unique_tag_name(session, account_id, name, tag_id)
    tag.name = name
    _flush_unique(session, f"A tag named {name!r} already exists.")
    return tag


def delete_tag(session: Session, account_id: str, tag_id: str) -> None:
    tag = get_tag(session, account_id, tag_id)
    repository.remove_taggings_of_tags(session, account_id, [tag.id])
    session.delete(tag)
    session.flush()


def _flush_unique(session: Session, detail: str) -> None:
    """Two requests creating the same name at once: the unique constraint decides, a 409."""
    try:
        session.flush()
    except IntegrityError:  # the request's unit of work is rolled back with the 409
        raise Conflict(detail, pointer=NAME) from None


# --------------------------------------------------------------------------------- taggings


def _kind(type_: str, ids: Sequence[str]) -> kinds.Taggable:
    kind = kinds.kind(type_)
    if kind is None:  # flows, before their domain registers: no such resource exists
        raise ErrorList(
            [
                NotFound(f"A {type_} with id {i} does not exist.", pointer=f"/data/{n}/id")
                for n, i in enumerate(ids)
            ]
        )
    return kind


def _known(session: Session, account_id: str, kind: kinds.Taggable, ids: Sequence[str]) -> None:
    existing = kind.existing(session, account_id, list(ids))
    missing: list[APIError] = [
        NotFound(f"A {kind.type} with id {i} does not exist.", pointer=f"/data/{n}/id")
        for n, i in enumerate(ids)
        if i not in existing
    ]
    if missing:
        raise ErrorList(missing)


def tag_resources(session: Session, account_id: str, tag_id: str, type_: str, ids: Sequence[str]) -> None:
    """Link the tag to each resource (already linked ones stay as they are)."""
    tag = get_tag(session, account_id, tag_id)
    if not ids:
        return
    kind = _kind(type_, ids)
    _known(session, account_id, kind, ids)
    group = get_group(session, account_id, tag.tag_group_id)
    current = repository.tags_of(session, account_id, kind.type, ids)
    errors: list[APIError] = []
    for n, resource_id in enumerate(ids):
        has = current.get(resource_id, [])
        if any(t.id == tag.id for t in has):
            continue
        if len(has) >= MAX_TAGS_PER_RESOURCE:
            errors.append(
                InvalidInput(
                    f"The {kind.type} {resource_id} already has {MAX_TAGS_PER_RESOURCE} tags, "
                    "the most one can have.",
                    pointer=f"/data/{n}/id",
                )
            )
        rival = next((t for t in has if t.tag_group_id == group.id), None) if group.exclusive else None
        if rival is not None:
            errors.append(
                Conflict(
                    f"The tag group {group.name!r} is exclusive and the {kind.type} {resource_id} "
                    f"already has its tag {rival.name!r}; remove that tag first.",
                    pointer=f"/data/{n}/id",
                )
            )
    if errors:
        raise ErrorList(errors)
    repository.add_taggings(session, account_id, tag.id, kind.type, ids)


def untag_resources(session: Session, account_id: str, tag_id: str, type_: str, ids: Sequence[str]) -> None:
    tag = get_tag(session, account_id, tag_id)
    if not ids:
        return
    kind = _kind(type_, ids)
    _known(session, account_id, kind, ids)
    repository.remove_taggings(session, account_id, kind.type, ids, tag_id=tag.id)
    session.flush()


def tagged_ids(session: Session, account_id: str, tag_id: str, type_: str) -> list[str]:
    """The ids of the resources of one kind the tag is on (none for a kind not registered)."""
    get_tag(session, account_id, tag_id)
    if kinds.kind(type_) is None:
        return []
    return repository.tagged_ids(session, account_id, tag_id, type_)


def tags_of(
    session: Session, account_id: str, type_: str, resource_ids: Sequence[str]
) -> dict[str, list[Tag]]:
    """Each resource's tags (for include=tags and the resources' own tag routes)."""
    return repository.tags_of(session, account_id, type_, resource_ids)


def forget_resources(session: Session, account_id: str, type_: str, resource_ids: Sequence[str]) -> None:
    """A list, segment or campaign was deleted: its taggings go with it."""
    repository.remove_taggings(session, account_id, type_, resource_ids)
