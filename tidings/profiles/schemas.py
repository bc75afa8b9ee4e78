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
