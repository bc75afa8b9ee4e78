"""Back-in-stock subscriptions (server and client endpoints) and their event.

A subscription is stored with the identifiers the caller gave, in the request's
transaction. The "Subscribed to Back in Stock" event goes through
`record_back_in_stock_event`, the one place that will resolve the profile and write the
event once the profiles domain exists (see that function).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from tidings.catalogs import repository, service
from tidings.catalogs.schemas import BackInStockData
from tidings.catalogs.tables import BackInStockSubscription, CatalogVariant
from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput

EVENT_METRIC = "Subscribed to Back in Stock"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+[1-9]\d{6,14}$")  # E.164
PROFILE = "/data/attributes/profile/data"


def _check_subscriber(data: BackInStockData) -> None:
    profile = data.attributes.profile
    if profile is None:
        raise InvalidInput(
            "A profile (email, phone_number, external_id or id) is required.",
            pointer="/data/attributes/profile",
        )
    attrs = profile.data.attributes
    errors: list[APIError] = []
    if not any((profile.data.id, attrs.email, attrs.phone_number, attrs.external_id)):
        errors.append(
            InvalidInput(
                "The profile needs at least one identifier: email, phone_number, external_id or id.",
                pointer=f"{PROFILE}/attributes",
            )
        )
    if attrs.email is not None and not EMAIL.match(attrs.email):
        errors.append(
            InvalidInput(f"Invalid email address {attrs.email!r}.", pointer=f"{PROFILE}/attributes/email")
        )
    if attrs.phone_number is not None and not PHONE.match(attrs.phone_number):
        errors.append(
            InvalidInput(
                "Invalid phone number format (Example of a valid format: +12345678901).",
                pointer=f"{PROFILE}/attributes/phone_number",
            )
        )
    known = bool(profile.data.id or attrs.external_id)
    channels = set(data.attributes.channels)
    if "EMAIL" in channels and not (attrs.email or known):
        errors.append(
            InvalidInput(
                "The EMAIL channel needs the profile's email.", pointer=f"{PROFILE}/attributes/email"
            )
        )
    if channels & {"SMS", "WHATSAPP"} and not (attrs.phone_number or known):
        errors.append(
            InvalidInput(
                "The SMS and WHATSAPP channels need the profile's phone_number.",
                pointer=f"{PROFILE}/attributes/phone_number",
            )
        )
    if errors:
        raise ErrorList(errors)


def subscribe(
    session: Session, account_id: str, data: BackInStockData, *, source: str
) -> BackInStockSubscription:
    """Record that someone waits for a variant; source is "api" or "client"."""
    pointer = "/data/relationships/variant/data/id"
    variant_id = service.check_id(data.relationships.variant.data.id, service.VARIANT, pointer=pointer)
    _check_subscriber(data)
    variant = repository.get_variant(session, account_id, variant_id)
    if variant is None:
        raise service.not_found(service.VARIANT, variant_id, pointer=pointer)
    profile = data.attributes.profile
    assert profile is not None
    attrs = profile.data.attributes
    subscription = BackInStockSubscription(
        account_id=account_id,
        id=ulid(),
        variant_id=variant.id,
        channels=sorted(set(data.attributes.channels)),
        profile_id=profile.data.id,
        email=attrs.email.strip().lower() if attrs.email else None,
        phone_number=attrs.phone_number,
        external_id=attrs.external_id,
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
    """SEAM: record "Subscribed to Back in Stock" for the subscriber; returns the event id.

    Recording the event needs the subscriber's profile id, and Tidings has no profiles
    domain (identity resolution) yet, so nothing is written here and None is returned.
    The subscription itself is stored with every identifier given and `event_id` NULL, so
    when `tidings.profiles` lands this function becomes:

        profile_id = profiles.resolve(session, account_id, email=..., phone_number=...,
                                      external_id=..., profile_id=...)
        return events.store.record_event(session, account_id, profile_id=profile_id,
                                         metric_name=EVENT_METRIC,
                                         properties=event_properties(subscription, variant),
                                         unique_id=subscription.id)

    and the subscriptions whose `event_id` is NULL can be backfilled the same way.
    """
    return None
