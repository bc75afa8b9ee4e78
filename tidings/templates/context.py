"""What a message template sees: person, event, organization, today, catalog items.

The renderer is built against typed inputs, not against other domains' tables: a profile
as a mapping of Klaviyo's profile attributes (plus `id`), an `EventView`, the account's
contact information, and a catalog lookup callable. The domains that own those records
adapt to these types.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tidings.catalogs.recommendations import event_product_ids, recommend
from tidings.catalogs.service import lookup_item
from tidings.templates.sandbox import FrozenDict, freeze
from tidings.web_feeds.service import contents as web_feed_contents

# Klaviyo's top-level shortcuts for profile fields: {{ first_name }} as well as {{ person.first_name }}.
PROFILE_SHORTCUTS = ("first_name", "last_name", "email", "phone_number", "external_id")
PROFILE_FIELDS = (
    "email",
    "phone_number",
    "external_id",
    "first_name",
    "last_name",
    "organization",
    "locale",
    "title",
    "image",
)


@dataclass(frozen=True)
class CatalogItemView:
    """A catalog item as `{{ catalog_item.* }}` shows it (Klaviyo's catalog item attributes)."""

    id: str  # $custom:::$default:::EXTERNAL_ID
    external_id: str
    title: str
    description: str = ""
    url: str = ""
    price: float | None = None
    image_full_url: str | None = None
    image_thumbnail_url: str | None = None
    images: Sequence[str] = ()
    custom_metadata: Mapping[str, Any] = field(default_factory=dict)
    published: bool = True


# A web feed's last good content by the feed's name (None: no such feed, or never fetched).
FeedLookup = Callable[[str], Any]


class FeedsView(FrozenDict):
    """`feeds`: the account's web feeds by name (`{{ feeds.Blog_posts.articles }}`), each read
    from the database the first time a render names it; an unknown name is a missing variable."""

    __slots__ = ("_lookup",)

    def __init__(self, lookup: FeedLookup) -> None:
        super().__init__()
        self._lookup = lookup

    def __missing__(self, name: str) -> Any:
        content = self._lookup(name)
        if content is None:
            raise KeyError(name)
        dict.__setitem__(self, name, content)
        return content


# Returns a CatalogItemView (this one, or the catalogs domain's, which has the same fields).
CatalogLookup = Callable[[str], Any]
# (profile id or None, how many, the triggering event's properties or None) -> CatalogItemViews.
Recommender = Callable[[str | None, int, Any], Sequence[Any]]


@dataclass(frozen=True)
class EventView:
    """The event that triggered a flow message."""

    properties: Mapping[str, Any]
    metric_name: str | None = None
    datetime: dt.datetime | None = None
    value: float | None = None
    id: str | None = None


def person_context(profile: Mapping[str, Any]) -> dict[str, Any]:
    """`person`: Klaviyo's profile fields plus custom properties (`person|lookup:'Loyalty Points'`)."""
    properties = profile.get("properties") or {}
    person: dict[str, Any] = {str(k): v for k, v in properties.items()}
    for name in PROFILE_FIELDS:
        if profile.get(name) is not None:
            person[name] = profile[name]
    if profile.get("id"):
        person["id"] = profile["id"]
    location = profile.get("location") or {}
    if location:
        person["location"] = dict(location)
        for name in ("city", "region", "country", "zip"):
            if location.get(name) is not None:
                person.setdefault(name, location[name])
    full = " ".join(str(person[n]) for n in ("first_name", "last_name") if person.get(n))
    if full:
        person.setdefault("full_name", full)
    return person


def event_context(event: EventView | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """`event`: the triggering event's properties (`{{ event.Items }}`, `{{ event|lookup:'$value' }}`)."""
    if event is None:
        return None
    view = event if isinstance(event, EventView) else EventView(properties=event)
    data: dict[str, Any] = {str(k): v for k, v in view.properties.items()}
    extra = data.get("$extra")
    if isinstance(extra, Mapping):
        data.setdefault("extra", extra)
    if view.value is not None:
        data.setdefault("value", view.value)
    if view.datetime is not None:
        data.setdefault("datetime", view.datetime)
    if view.metric_name:
        data.setdefault("metric", view.metric_name)
    if view.id:
        data.setdefault("id", view.id)
    return data


def organization_context(contact: Any) -> dict[str, Any]:
    """`organization` from the account's contact information (name, url, full_address, ...)."""
    info = contact.model_dump() if hasattr(contact, "model_dump") else dict(contact or {})
    street = info.get("street_address") or {}
    city_line = " ".join(p for p in (street.get("city"), street.get("region"), street.get("zip")) if p)
    lines = [street.get("address1"), street.get("address2"), city_line, street.get("country")]
    return {
        "name": info.get("organization_name") or "",
        "url": info.get("website_url") or "",
        "full_address": ", ".join(p for p in lines if p),
        "address": dict(street),
        "sender_name": info.get("default_sender_name") or "",
        "sender_email": info.get("default_sender_email") or "",
    }


def today_in(timezone: str, now: dt.datetime | None = None) -> dt.datetime:
    try:
        zone: dt.tzinfo = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    return (now or dt.datetime.now(dt.UTC)).astimezone(zone)


def message_context(
    profile: Mapping[str, Any],
    event: EventView | Mapping[str, Any] | None,
    contact_information: Any,
    *,
    timezone: str = "UTC",
    now: dt.datetime | None = None,
    feeds: FeedLookup | None = None,
) -> FrozenDict:
    person = person_context(profile)
    context: dict[str, Any] = {
        "person": person,
        "organization": organization_context(contact_information),
        "today": today_in(timezone, now),
    }
    for name in PROFILE_SHORTCUTS:
        if person.get(name) is not None:
            context[name] = person[name]
    rendered_event = event_context(event)
    if rendered_event is not None:
        context["event"] = rendered_event
    frozen: FrozenDict = freeze(context)
    if feeds is not None:
        dict.__setitem__(frozen, "feeds", FeedsView(feeds))
    return frozen


def catalog_lookup(session: Session, account_id: str) -> CatalogLookup:
    """The catalogs domain's item lookup bound to an account.

    `{% catalog %}` takes an item's external id (Klaviyo's "item id", not a SKU) or its full
    `$custom:::$default:::ID` id; `tidings.catalogs.service.lookup_item` resolves either and
    returns its own `CatalogItemView` (same fields as the one here, plus categories and
    variants), which the catalog tag reads by attribute.
    """

    def lookup(item_ref: str) -> Any:
        return lookup_item(session, account_id, item_ref)

    return lookup


def feed_lookup(session: Session, account_id: str) -> FeedLookup:
    """The account's web feeds by name: their cached content (tidings.web_feeds), frozen once per
    lookup, so a batch of renders reads and freezes each feed once. Never a network call."""
    cache: dict[str, Any] = {}

    def lookup(name: str) -> Any:
        if name not in cache:
            content = web_feed_contents(session, account_id, name)
            cache[name] = None if content is None else freeze(content)
        return cache[name]

    return lookup


def recommender(session: Session, account_id: str, *, now: dt.datetime | None = None) -> Recommender:
    """The catalogs domain's recommendations bound to an account, for `{% recommended_products %}`.

    One statement per distinct (person, count, event items), remembered for the life of this
    callable (a claim batch, a preview), so a template's html and text parts, or two blocks,
    ask the database once; the items then load in three queries, never one per item.
    """
    seen: dict[tuple[str | None, int, tuple[str, ...]], Sequence[Any]] = {}

    def lookup(profile_id: str | None, count: int, event: Any) -> Sequence[Any]:
        exclude = tuple(sorted(set(event_product_ids(event)))) if event is not None else ()
        key = (profile_id, count, exclude)
        if key not in seen:
            seen[key] = recommend(session, account_id, profile_id, count, exclude=exclude, now=now)
        return seen[key]

    return lookup
