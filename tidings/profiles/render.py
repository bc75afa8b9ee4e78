"""Profiles as JSON:API resources (also used by lists and segments to render their members)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tidings.jsonapi.documents import Urls, iso, relationship, resource
from tidings.profiles import facets
from tidings.profiles.attributes import LOCATION_FIELDS
from tidings.profiles.tables import Profile

RELATIONSHIPS = {
    "lists": "list",
    "segments": "segment",
    "push-tokens": "push-token",
    "conversations": "conversation",
}


def profile_attributes(profile: Profile) -> dict[str, Any]:
    stored = profile.location or {}
    return {
        "email": profile.email,
        "phone_number": profile.phone_number,
        "external_id": profile.external_id,
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "organization": profile.organization,
        "locale": profile.locale,
        "title": profile.title,
        "image": profile.image,
        "created": iso(profile.created),
        "updated": iso(profile.updated),
        "last_event_date": iso(profile.last_event_date),
        "location": {name: stored.get(name) for name in LOCATION_FIELDS},
        "properties": profile.properties or {},
    }


def profile_resource(
    urls: Urls,
    profile: Profile,
    *,
    fields: list[str] | None = None,
    additional: dict[str, Any] | None = None,
    related: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """`additional`: the additional fields asked for, by name (`subscriptions`, ...);
    `related`: relationship name -> ids, for the relationships that were included."""
    attributes = profile_attributes(profile)
    attributes.update(additional or {})
    relationships = {}
    for name, type_ in RELATIONSHIPS.items():
        rel = relationship(
            type_,
            (related or {}).get(name),
            urls.relationship("profiles", profile.id, name),
            urls.related("profiles", profile.id, name),
            many=True,
        )
        if related is None or name not in related:
            del rel["data"]
        relationships[name] = rel
    return resource(
        "profile",
        profile.id,
        attributes,
        urls.resource("profiles", profile.id),
        relationships=relationships,
        fields=fields,
    )


def profile_resources(
    session: Session,
    account_id: str,
    urls: Urls,
    profiles: list[Profile],
    *,
    fields: list[str] | None,
    extra: list[str],
    related: dict[str, dict[str, list[str]]] | None = None,
) -> list[dict[str, Any]]:
    """Profiles as resources with the additional fields asked for (`subscriptions`,
    `predictive_analytics`: facets other domains register), each read once for the whole page."""
    ids = [p.id for p in profiles]
    values: dict[str, dict[str, Any]] = {}
    for name in extra:
        field = facets.additional_field(name)
        if field is not None:
            values[name] = field.read(session, account_id, ids)
    return [
        profile_resource(
            urls,
            p,
            fields=fields,
            additional={name: read.get(p.id) for name, read in values.items()},
            related=(related or {}).get(p.id),
        )
        for p in profiles
    ]
