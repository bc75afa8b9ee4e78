"""Typed account data: what `tidings accounts create` takes and `GET /api/accounts` shows."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StreetAddress(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address1: str = ""
    address2: str = ""
    city: str = ""
    region: str = ""
    country: str = ""
    zip: str = ""


class ContactInformation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_sender_name: str = ""
    default_sender_email: str = ""
    website_url: str = ""
    organization_name: str = ""
    street_address: StreetAddress = Field(default_factory=StreetAddress)


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    test_account: bool = False
    industry: str | None = None
    timezone: str = "UTC"
    preferred_currency: str = Field("USD", min_length=3, max_length=3)
    locale: str = "en-US"
    contact_information: ContactInformation | None = None
