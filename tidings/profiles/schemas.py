"""Request bodies of the profile endpoints (Klaviyo's JSON:API documents)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Name = str | None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LocationIn(Strict):
    address1: str | None = Field(None, max_length=255)
    address2: str | None = Field(None, max_length=255)
    city: str | None = Field(None, max_length=255)
    country: str | None = Field(None, max_length=255)
    latitude: str | float | None = None
    longitude: str | float | None = None
    region: str | None = Field(None, max_length=255)
    zip: str | None = Field(None, max_length=64)
    timezone: str | None = Field(None, max_length=64)
    ip: str | None = Field(None, max_length=64)


class ProfileAttributesIn(Strict):
    """Attributes every profile write accepts. Identifiers are checked by identifiers.py."""

    email: str | None = None
    phone_number: str | None = None
    external_id: str | None = None
    first_name: str | None = Field(None, max_length=255)
    last_name: str | None = Field(None, max_length=255)
    organization: str | None = Field(None, max_length=255)
    locale: str | None = Field(None, max_length=64)
    title: str | None = Field(None, max_length=255)
    image: str | None = Field(None, max_length=2048)
    location: LocationIn | None = None
    properties: dict[str, Any] | None = None


class ProfileUpsertAttributesIn(ProfileAttributesIn):
    kx: str | None = Field(None, alias="_kx")


class ClientProfileAttributesIn(ProfileUpsertAttributesIn):
    anonymous_id: str | None = None


class PatchPropertiesIn(Strict):
    append: dict[str, Any] | None = None
    unappend: dict[str, Any] | None = None
    unset: str | list[str] | None = None


class ProfileMetaIn(Strict):
    patch_properties: PatchPropertiesIn | None = None
    patch_identifiers: dict[str, Any] | None = None


class ProfileCreateData(Strict):
    type: Literal["profile"]
    attributes: ProfileAttributesIn


class ProfileCreateQuery(Strict):
    data: ProfileCreateData


class ProfileUpdateData(Strict):
    type: Literal["profile"]
    id: str
    attributes: ProfileAttributesIn
    meta: ProfileMetaIn | None = None


class ProfilePartialUpdateQuery(Strict):
    data: ProfileUpdateData


class ProfileUpsertData(Strict):
    type: Literal["profile"]
    id: str | None = None
    attributes: ProfileUpsertAttributesIn
    meta: ProfileMetaIn | None = None


class ProfileUpsertQuery(Strict):
    data: ProfileUpsertData


class ClientProfileData(Strict):
    type: Literal["profile"]
    id: str | None = None
    attributes: ClientProfileAttributesIn
    meta: ProfileMetaIn | None = None


class ClientProfileCreateQuery(Strict):
    data: ClientProfileData


class ProfileRef(Strict):
    type: Literal["profile"]
    id: str


class ProfileRefs(Strict):
    data: list[ProfileRef]


class MergeRelationships(Strict):
    profiles: ProfileRefs


class ProfileMergeData(Strict):
    type: Literal["profile-merge"]
    id: str
    relationships: MergeRelationships


class ProfileMergeQuery(Strict):
    data: ProfileMergeData


def sent(model: BaseModel) -> dict[str, Any]:
    """The fields the caller sent (null included), by their wire names."""
    return model.model_dump(exclude_unset=True, by_alias=True)


# ----------------------------------------------------------------------------- push tokens


class DeviceMetadataIn(Strict):
    device_id: str | None = Field(None, max_length=255)
    klaviyo_sdk: Literal["android", "flutter", "flutter_community", "react_native", "swift"] | None = None
    sdk_version: str | None = Field(None, max_length=64)
    device_model: str | None = Field(None, max_length=255)
    os_name: Literal["android", "ios", "ipados", "macos", "tvos"] | None = None
    os_version: str | None = Field(None, max_length=64)
    manufacturer: str | None = Field(None, max_length=255)
    app_name: str | None = Field(None, max_length=255)
    app_version: str | None = Field(None, max_length=64)
    app_build: str | None = Field(None, max_length=64)
    app_id: str | None = Field(None, max_length=255)
    environment: Literal["debug", "release"] | None = None


class EmbeddedProfileAttributesIn(ProfileUpsertAttributesIn):
    meta: ProfileMetaIn | None = None  # in embedded profile blocks `meta` may sit inside attributes


class EmbeddedProfileData(Strict):
    type: Literal["profile"]
    id: str | None = None
    attributes: EmbeddedProfileAttributesIn
    meta: ProfileMetaIn | None = None


class EmbeddedProfile(Strict):
    data: EmbeddedProfileData


EnablementStatus = Literal["AUTHORIZED", "DENIED", "NOT_DETERMINED", "PROVISIONAL", "UNAUTHORIZED"]


class PushTokenAttributesIn(Strict):
    token: str = Field(min_length=1, max_length=512)
    platform: Literal["android", "ios"]
    enablement_status: EnablementStatus | None = "AUTHORIZED"
    vendor: Literal["apns", "fcm"]
    background: Literal["AVAILABLE", "DENIED", "RESTRICTED"] | None = "AVAILABLE"
    device_metadata: DeviceMetadataIn | None = None
    profile: EmbeddedProfile


class PushTokenData(Strict):
    type: Literal["push-token"]
    attributes: PushTokenAttributesIn


class PushTokenCreateQuery(Strict):
    data: PushTokenData


class PushTokenUnregisterAttributesIn(Strict):
    token: str = Field(min_length=1, max_length=512)
    platform: Literal["android", "ios"]
    vendor: Literal["apns", "fcm"] | None = None
    profile: EmbeddedProfile


class PushTokenUnregisterData(Strict):
    type: Literal["push-token-unregister"]
    attributes: PushTokenUnregisterAttributesIn


class PushTokenUnregisterQuery(Strict):
    data: PushTokenUnregisterData


# ----------------------------------------------------------------------------- data privacy


class DeletionProfileAttributesIn(Strict):
    email: str | None = None
    phone_number: str | None = None


class DeletionProfileData(Strict):
    type: Literal["profile"]
    id: str | None = None
    attributes: DeletionProfileAttributesIn


class DeletionProfile(Strict):
    data: DeletionProfileData


class DeletionAttributesIn(Strict):
    profile: DeletionProfile


class DeletionData(Strict):
    type: Literal["data-privacy-deletion-job"]
    attributes: DeletionAttributesIn


class DeletionJobQuery(Strict):
    data: DeletionData
