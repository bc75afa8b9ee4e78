"""Profiles as JSON:API resources (also used by lists and segments to render their members)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from tidings.jsonapi.documents import Urls, relationship, resource
from tidings.profiles.attributes import LOCATION_FIELDS
from tidings.profiles.tables import Profile

PREDICTIVE_FIELDS = (
    "historic_clv",
    "predicted_clv",
    "total_clv",
    "historic_number_of_orders",
    "predicted_number_of_orders",
    "average_days_between_orders",
    "average_order_value",
    "churn_probability",
    "expected_date_of_next_order",
    "ranked_channel_affinity",
)
RELATIONSHIPS = {
    "lists": "list",
    "segments": "segment",
    "push-tokens": "push-token",
    "conversations": "conversation",
}


def predictive_of(session: Session, account_id: str, profile_ids: list[str]) -> dict[str, dict[str, Any]]:
    """`predictive_analytics` of each profile: the historic values computed from its `Placed
    Order` events, as segments compute them (tidings/segments/compiler.py); the predicted ones
    need a model Tidings does not have and stay null."""
    from tidings.events.repository import order_history  # events depend on profiles, not back

    history = order_history(session, account_id, profile_ids)
    out: dict[str, dict[str, Any]] = {}
    for profile_id in profile_ids:
        values: dict[str, Any] = dict.fromkeys(PREDICTIVE_FIELDS)
        count, total, first, last = history.get(profile_id, (0, 0.0, None, None))
        values["historic_number_of_orders"] = count
        values["historic_clv"] = round(total, 2)
        if count:
            values["average_order_value"] = round(total / count, 2)
        if count > 1 and first is not None and last is not None:
            values["average_days_between_orders"] = round(
                (last - first).total_seconds() / 86400 / (count - 1), 2
            )
        out[profile_id] = values
    return out


def iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds") if value else None


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
    subscriptions: dict[str, Any] | None = None,
    predictive: dict[str, Any] | None = None,
    related: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """`related`: relationship name -> ids, for the relationships that were included."""
    attributes = profile_attributes(profile)
    if subscriptions is not None:
        attributes["subscriptions"] = subscriptions
    if predictive is not None:
        attributes["predictive_analytics"] = predictive
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


def subscriptions_of(session: Session, account_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    from tidings.consent.render import subscriptions_for

    return subscriptions_for(session, account_id, ids)


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
    `predictive_analytics`), each read once for the whole page."""
    ids = [p.id for p in profiles]
    subs = subscriptions_of(session, account_id, ids) if "subscriptions" in extra else {}
    predictive = predictive_of(session, account_id, ids) if "predictive_analytics" in extra else {}
    return [
        profile_resource(
            urls,
            p,
            fields=fields,
            subscriptions=subs.get(p.id) if "subscriptions" in extra else None,
            predictive=predictive.get(p.id),
            related=(related or {}).get(p.id),
        )
        for p in profiles
    ]
