"""Back-in-stock subscriptions (server and client endpoints) and their event.

A subscription resolves its subscriber to a profile (identity resolution, as an event
would: fill and merge; the client endpoint never changes a known profile's identifiers),
is stored with the identifiers given and the profile, and records a "Subscribed to Back
in Stock" event for that profile, all in the request's transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tidings.catalogs import repository, service
from tidings.catalogs.schemas import BackInStockData
from tidings.catalogs.tables import BackInStockSubscription, CatalogVariant
from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.events.store import record_event
from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput, NotFound
from tidings.profiles.identifiers import check_identifiers, raise_errors
from tidings.profiles.identity import ProfileInput, Source, resolve_batch

EVENT_METRIC = "Subscribed to Back in Stock"
PROFILE = "/data/attributes/profile/data"


def _subscriber(data: BackInStockData) -> ProfileInput:
    """The subscriber's identifiers, normalised; 400s say which field is wrong."""
    profile = data.attributes.profile
    if profile is None:
        raise InvalidInput(
            "A profile (email, phone_number, external_id or id) is required.",
            pointer="/data/attributes/profile",
        )
    attrs = profile.data.attributes.model_dump(exclude_none=True)
    if not attrs and not profile.data.id:
        raise InvalidInput(
            "The profile needs at least one identifier: email, phone_number, external_id or id.",
            pointer=f"{PROFILE}/attributes",
        )
    checked = check_identifiers(attrs, has_profile_id=bool(profile.data.id))
    if checked.errors:
        raise_errors(checked.errors, pointer_prefix=f"{PROFILE}/attributes")
    values = checked.values
    subscriber = ProfileInput(
        id=profile.data.id,
        email=values.get("email"),
        phone_number=values.get("phone_number"),
        external_id=values.get("external_id"),
    )
    known = bool(subscriber.id or subscriber.external_id)
    channels = set(data.attributes.channels)
    errors: list[APIError] = []
    if "EMAIL" in channels and not (subscriber.email or known):
        errors.append(
            InvalidInput(
                "The EMAIL channel needs the profile's email.", pointer=f"{PROFILE}/attributes/email"
            )
        )
    if channels & {"SMS", "WHATSAPP"} and not (subscriber.phone_number or known):
        errors.append(
            InvalidInput(
                "The SMS and WHATSAPP channels need the profile's phone_number.",
                pointer=f"{PROFILE}/attributes/phone_number",
            )
        )
    if errors:
        raise ErrorList(errors)
    return subscriber


def subscribe(
    session: Session, account_id: str, data: BackInStockData, *, source: str
) -> BackInStockSubscription:
    """Record that someone waits for a variant; source is "api" or "client"."""
    pointer = "/data/relationships/variant/data/id"
    variant_id = service.check_id(data.relationships.variant.data.id, service.VARIANT, pointer=pointer)
    subscriber = _subscriber(data)
    variant = repository.get_variant(session, account_id, variant_id)
    if variant is None:
        raise service.not_found(service.VARIANT, variant_id, pointer=pointer)
    [resolved] = resolve_batch(
        session, account_id, [subscriber], source=Source.CLIENT if source == "client" else Source.EVENT
    )
    if resolved.not_found:
        raise NotFound(f"A profile with id {subscriber.id} does not exist.", pointer=f"{PROFILE}/id")
    if resolved.profile_id is None:
        raise InvalidInput(resolved.error or "The profile could not be resolved.", pointer=PROFILE)
    subscription = BackInStockSubscription(
        account_id=account_id,
        id=ulid(),
        variant_id=variant.id,
        channels=sorted(set(data.attributes.channels)),
        profile_id=resolved.profile_id,
        email=subscriber.email,
        phone_number=subscriber.phone_number,
        external_id=subscriber.external_id,
        source=source,
        created=utcnow(),
    )
    session.add(subscription)
    session.flush()
    subscription.event_id = record_back_in_stock_event(session, account_id, subscription, variant)
    return subscription


def event_properties(subscription: BackInStockSubscription, variant: CatalogVariant) -> dict[str, Any]:
    """The properties of the "Subscribed to Back in Stock" event for this subscription."""
    return {
        "Catalog Variant ID": variant.id,
        "Catalog Item ID": variant.item_id,
        "VariantID": variant.external_id,
        "SKU": variant.sku,
        "Title": variant.title,
        "URL": variant.url,
        "Price": variant.price,
        "ImageURL": variant.image_full_url,
        "Channels": list(subscription.channels),
        "$extra": {"subscription_id": subscription.id, "source": subscription.source},
    }


def record_back_in_stock_event(
    session: Session, account_id: str, subscription: BackInStockSubscription, variant: CatalogVariant
) -> str | None:
    """Record "Subscribed to Back in Stock" for the subscription's profile; returns the event id.

    The subscription id is the event's unique id, so recording it twice writes one event.
    """
    if subscription.profile_id is None:
        return None
    return record_event(
        session,
        account_id,
        profile_id=subscription.profile_id,
        metric_name=EVENT_METRIC,
        properties=event_properties(subscription, variant),
        unique_id=subscription.id,
        time=subscription.created,
    )
