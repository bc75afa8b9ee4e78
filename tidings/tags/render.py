"""Tags and tag groups as JSON:API resources, and `include=tags` for the resources tags are on."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tidings.jsonapi.documents import Urls, relationship, resource
from tidings.tags import repository
from tidings.tags.tables import Tag, TagGroup


def tag_resource(urls: Urls, tag: Tag, fields: list[str] | None = None) -> dict[str, Any]:
    # A tag's lists, segments, campaigns and flows have relationship routes only (no related
    # route in the spec): they are not shown, so no link points at nothing.
    relationships = {
        "tag-group": relationship(
            "tag-group",
            tag.tag_group_id,
            urls.relationship("tags", tag.id, "tag-group"),
            urls.related("tags", tag.id, "tag-group"),
            many=False,
        )
    }
    return resource(
        "tag",
        tag.id,
        {"name": tag.name},
        urls.resource("tags", tag.id),
        relationships=relationships,
        fields=fields,
    )


def group_resource(urls: Urls, group: TagGroup, fields: list[str] | None = None) -> dict[str, Any]:
    attributes = {"name": group.name, "exclusive": group.exclusive, "default": group.default}
    relationships = {
        "tags": {
            "links": {
                "self": urls.relationship("tag-groups", group.id, "tags"),
                "related": urls.related("tag-groups", group.id, "tags"),
            }
        }
    }
    return resource(
        "tag-group",
        group.id,
        attributes,
        urls.resource("tag-groups", group.id),
        relationships=relationships,
        fields=fields,
    )


def include_tags(
    session: Session,
    account_id: str,
    urls: Urls,
    kind: str,
    resources: list[dict[str, Any]],
    fields: list[str] | None = None,
) -> list[dict[str, Any]]:
    """`include=tags` on lists, segments or campaigns: each resource's `relationships.tags.data`
    set from its taggings (one query for the page), and the tags to include, once each."""
    by_resource = repository.tags_of(session, account_id, kind, [r["id"] for r in resources])
    included: dict[str, dict[str, Any]] = {}
    for obj in resources:
        tags = by_resource.get(obj["id"], [])
        relationships = obj.setdefault("relationships", {})
        links = {k: v for k, v in relationships.get("tags", {}).items() if k != "data"}
        relationships["tags"] = {"data": [{"type": "tag", "id": t.id} for t in tags], **links}
        for tag in tags:
            included.setdefault(tag.id, tag_resource(urls, tag, fields))
    return list(included.values())
