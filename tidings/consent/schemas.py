"""Request bodies of the subscription endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from tidings.profiles.schemas import (
    DeviceMetadataIn,
    EmbeddedProfileAttributesIn,
    EnablementStatus,
    ProfileMetaIn,
    Strict,
)


class Subscribed(Strict):
    consent: Literal["SUBSCRIBED"]
    consented_at: dt.datetime | None = None


class SubscribedOnly(Strict):
    consent: Literal["SUBSCRIBED"]


class Unsubscribed(Strict):
    consent: Literal["UNSUBSCRIBED"]


class PushTokenIn(Strict):
    token: str = Field(min_length=1, max_length=512)
    platform: Literal["android", "ios"]
    vendor: Literal["apns", "fcm"]
    enablement_status: EnablementStatus | None = "AUTHORIZED"
    background: Literal["AVAILABLE", "DENIED", "RESTRICTED"] | None = "AVAILABLE"
    device_metadata: DeviceMetadataIn | None = None


class EmailSubscribe(Strict):
    marketing: Subscribed | None = None
    open_tracking: SubscribedOnly | None = None


class SmsSubscribe(Strict):
    marketing: Subscribed | None = None
    transactional: Subscribed | None = None


class WhatsappSubscribe(Strict):
    marketing: Subscribed | None = None
    transactional: Subscribed | None = None


class PushSubscribe(Strict):
    marketing: Subscribed | None = None
    tokens: list[PushTokenIn] | None = None


class SubscriptionsIn(Strict):
    email: EmailSubscribe | None = None
    sms: SmsSubscribe | None = None
    whatsapp: WhatsappSubscribe | None = None
    push: PushSubscribe | None = None


class SubscribeProfileAttributes(Strict):
    email: str | None = None
    phone_number: str | None = None
    subscriptions: SubscriptionsIn | None = None
    age_gated_date_of_birth: dt.date | None = None


class SubscribeProfile(Strict):
    type: Literal["profile"]
    id: str | None = None
    attributes: SubscribeProfileAttributes


class SubscribeProfiles(Strict):
    data: list[SubscribeProfile]


class ListRef(Strict):
    type: Literal["list"]
    id: str


class ListRelationship(Strict):
    data: ListRef


class SubscribeRelationships(Strict):
    list: ListRelationship | None = None


class BulkSubscribeAttributes(Strict):
    custom_source: str | None = Field(None, max_length=255)
    profiles: SubscribeProfiles
    historical_import: bool | None = False


class BulkSubscribeData(Strict):
    type: Literal["profile-subscription-bulk-create-job"]
    attributes: BulkSubscribeAttributes
    relationships: SubscribeRelationships | None = None


class BulkSubscribeQuery(Strict):
    data: BulkSubscribeData


class EmailUnsubscribe(Strict):
    marketing: Unsubscribed | None = None
    open_tracking: Unsubscribed | None = None


class SmsUnsubscribe(Strict):
    marketing: Unsubscribed | None = None
    transactional: Unsubscribed | None = None


class WhatsappUnsubscribe(Strict):
    marketing: Unsubscribed | None = None
    transactional: Unsubscribed | None = None
    conversational: Unsubscribed | None = None


class PushUnsubscribe(Strict):
    marketing: Unsubscribed | None = None
    tokens: list[PushTokenIn] | None = None


class UnsubscriptionsIn(Strict):
    email: EmailUnsubscribe | None = None
    sms: SmsUnsubscribe | None = None
    whatsapp: WhatsappUnsubscribe | None = None
    push: PushUnsubscribe | None = None


class UnsubscribeProfileAttributes(Strict):
    email: str | None = None
    phone_number: str | None = None
    subscriptions: UnsubscriptionsIn | None = None


class UnsubscribeProfile(Strict):
    type: Literal["profile"]
    attributes: UnsubscribeProfileAttributes


class UnsubscribeProfiles(Strict):
    data: list[UnsubscribeProfile]


class BulkUnsubscribeAttributes(Strict):
    profiles: UnsubscribeProfiles


class BulkUnsubscribeData(Strict):
    type: Literal["profile-subscription-bulk-delete-job"]
    attributes: BulkUnsubscribeAttributes
    relationships: SubscribeRelationships | None = None


class BulkUnsubscribeQuery(Strict):
    data: BulkUnsubscribeData


class ClientSubscriptionProfileAttributes(EmbeddedProfileAttributesIn):
    subscriptions: SubscriptionsIn | None = None
    age_gated_date_of_birth: dt.date | None = None


class ClientSubscriptionProfileData(Strict):
    type: Literal["profile"]
    id: str | None = None
    attributes: ClientSubscriptionProfileAttributes
    meta: ProfileMetaIn | None = None


class ClientSubscriptionProfile(Strict):
    data: ClientSubscriptionProfileData


class ClientSubscriptionAttributes(Strict):
    custom_source: str | None = Field(None, max_length=255)
    profile: ClientSubscriptionProfile


class ClientSubscriptionRelationships(Strict):
    list: ListRelationship


class ClientSubscriptionData(Strict):
    type: Literal["subscription"]
    attributes: ClientSubscriptionAttributes
    relationships: ClientSubscriptionRelationships


class ClientSubscriptionQuery(Strict):
    data: ClientSubscriptionData


def dump(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)


class SuppressProfileAttributes(Strict):
    email: str


class SuppressProfile(Strict):
    type: Literal["profile"]
    attributes: SuppressProfileAttributes


class SuppressProfiles(Strict):
    data: list[SuppressProfile]


class SuppressAttributes(Strict):
    profiles: SuppressProfiles | None = None


class SegmentRef(Strict):
    type: Literal["segment"]
    id: str


class SegmentRelationship(Strict):
    data: SegmentRef


class SuppressRelationships(Strict):
    list: ListRelationship | None = None
    segment: SegmentRelationship | None = None


class SuppressData(Strict):
    type: Literal["profile-suppression-bulk-create-job"]
    attributes: SuppressAttributes
    relationships: SuppressRelationships | None = None


class SuppressQuery(Strict):
    data: SuppressData


class UnsuppressData(Strict):
    type: Literal["profile-suppression-bulk-delete-job"]
    attributes: SuppressAttributes
    relationships: SuppressRelationships | None = None


class UnsuppressQuery(Strict):
    data: UnsuppressData
