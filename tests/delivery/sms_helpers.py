"""What the SMS tests share: distinct phone numbers, and reading events and consent back
through Klaviyo's API."""

from __future__ import annotations

import itertools
import random
from typing import Any

from klaviyo_api import KlaviyoAPI

PUBLIC = "https://tidings.example.test"  # TIDINGS_PUBLIC_URL of the apps under test
_numbers = itertools.count(random.randint(1000, 8000))


def phone() -> str:
    return f"+1617555{next(_numbers):04d}"


def events(sdk: KlaviyoAPI, profile_id: str) -> list[tuple[str, dict[str, Any]]]:
    found = sdk.Events.get_events(filter=f'equals(profile_id,"{profile_id}")', include=["metric"])
    names = {m["id"]: m["attributes"]["name"] for m in found.included or []}
    return [(names[e.relationships.metric.data.id], e.attributes.event_properties) for e in found.data]


def sms_consent(sdk: KlaviyoAPI, profile_id: str) -> Any:
    profile = sdk.Profiles.get_profile(profile_id, additional_fields_profile=["subscriptions"])
    return profile.data.attributes.subscriptions.sms.marketing
