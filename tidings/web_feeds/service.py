"""Web feeds: CRUD, the refresh through the outbound guard, and the cached content templates read.

A feed is checked when it is given (the guard's rules: a private or non-https URL is a 400 at
/data/attributes/url), then fetched by a job in the network lane, never in a request and never
while a template renders: templates read the last good content stored here. Refreshes follow
Klaviyo's schedule: every TIDINGS_WEB_FEED_REFRESH_SECONDS (15 minutes); after a run of failures
(3 hours of them) nightly; after three failed nights the status is critical. A failed refresh
keeps the last good content; the status says what happened:

    null          created, not fetched yet
    ok            the last refresh succeeded
    disabled      no refresh ever succeeded (nothing to render)
    warning_periodic_refresh_timeout / warning_nightly_refresh_timeout / critical_nightly_refresh_timeout
                  the last refreshes failed; the last good content is still used
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.ids import short_id
from tidings.jobs import queue
from tidings.jobs.tables import NETWORK_LANE
from tidings.jsonapi.errors import Conflict, InvalidInput, NotFound
from tidings.jsonapi.filters import FilterField
from tidings.outbound.addresses import Policy, URLRefused, check_now
from tidings.outbound.client import OutboundClient, OutboundFailed
from tidings.web_feeds.content import ContentError, parse
from tidings.web_feeds.tables import WebFeed

log = logging.getLogger(__name__)

REFRESH_JOB = "web_feeds.refresh"
MAX_FEEDS = 10  # Klaviyo: "Accounts can have up to 10 web feeds."
NIGHTLY = dt.timedelta(days=1)
NIGHTLY_AFTER = 12  # failures in a row (3 hours of 15-minute refreshes) before refreshing nightly
CRITICAL_AFTER = NIGHTLY_AFTER + 3  # three failed nights
POINTER = "/data/attributes"
USER_AGENT = "tidings-web-feeds"

FILTERS: dict[str, FilterField] = {
    "name": FilterField(WebFeed.name),
    "created": FilterField(WebFeed.created, kind="datetime"),
    "updated": FilterField(WebFeed.updated, kind="datetime"),
}
SORTS = {"created": WebFeed.created, "name": WebFeed.name, "updated": WebFeed.updated, "id": WebFeed.id}


def feeds_query(account_id: str) -> Any:
    return select(WebFeed).where(WebFeed.account_id == account_id)


def get_feed(session: Session, account_id: str, feed_id: str) -> WebFeed:
    feed = session.get(WebFeed, (account_id, feed_id))
    if feed is None:
        raise NotFound(f"A web feed with id {feed_id} does not exist.")
    return feed


def _check_url(url: str, settings: Settings) -> str:
    url = url.strip()
    try:
        check_now(url, Policy(allow_private=settings.allow_private_urls))
    except URLRefused as error:
        raise InvalidInput(f"The URL cannot be used: {error}", pointer=f"{POINTER}/url") from None
    return url


def _free_name(session: Session, account_id: str, name: str, feed_id: str | None = None) -> None:
    stmt = select(WebFeed.id).where(WebFeed.account_id == account_id, WebFeed.name == name)
    other = session.execute(stmt).scalar()
    if other is not None and other != feed_id:
        raise InvalidInput(
            f"A web feed named {name!r} already exists.", pointer=f"{POINTER}/name", code="duplicate"
        )


def _enqueue_refresh(session: Session, feed: WebFeed, now: dt.datetime) -> None:
    queue.enqueue(
        session,
        REFRESH_JOB,
        {
            "feed_id": feed.id,
            "generation": feed.generation,
            "url": feed.url,
            "request_method": feed.request_method,
            "content_type": feed.content_type,
        },
        account_id=feed.account_id,
        dedup_key=f"web-feed:{feed.id}:{feed.generation}:{int(now.timestamp())}",
        max_attempts=1,  # a failure is recorded on the feed and retried on its schedule
        lane=NETWORK_LANE,
    )


def create_feed(
    session: Session,
    settings: Settings,
    account_id: str,
    *,
    name: str,
    url: str,
    method: str,
    content_type: str,
) -> WebFeed:
    url = _check_url(url, settings)
    _free_name(session, account_id, name)
    count = session.execute(select(func.count()).where(WebFeed.account_id == account_id)).scalar_one()
    if count >= MAX_FEEDS:
        raise InvalidInput(f"An account can have at most {MAX_FEEDS} web feeds.", pointer="/data")
    now = utcnow()
    feed = WebFeed(
        account_id=account_id,
        id=short_id(12),
        name=name,
        url=url,
        request_method=method,
        content_type=content_type,
        status=None,
        generation=0,
        failures=0,
        next_refresh_at=now + dt.timedelta(seconds=settings.web_feed_refresh_seconds),
        created=now,
        updated=now,
    )
    session.add(feed)
    session.flush()
    _enqueue_refresh(session, feed, now)
    return feed


def update_feed(
    session: Session,
    settings: Settings,
    account_id: str,
    feed_id: str,
    body_id: str,
    changes: dict[str, Any],
) -> WebFeed:
    if body_id != feed_id:
        raise Conflict("The id in the body does not match the id in the path.", pointer="/data/id")
    feed = get_feed(session, account_id, feed_id)
    if changes.get("name") is not None:
        _free_name(session, account_id, changes["name"], feed_id)
        feed.name = changes["name"]
    fetched = {
        "url": _check_url(changes["url"], settings) if changes.get("url") is not None else feed.url,
        "request_method": changes.get("request_method") or feed.request_method,
        "content_type": changes.get("content_type") or feed.content_type,
    }
    now = utcnow()
    if fetched != {"url": feed.url, "request_method": feed.request_method, "content_type": feed.content_type}:
        # Another source: the old content is not its content.
        feed.url, feed.request_method, feed.content_type = fetched.values()
        feed.generation += 1
        feed.status, feed.content, feed.fetched_at, feed.failures, feed.last_error = None, None, None, 0, None
        feed.next_refresh_at = now + dt.timedelta(seconds=settings.web_feed_refresh_seconds)
        _enqueue_refresh(session, feed, now)
    feed.updated = now
    session.flush()
    return feed


def delete_feed(session: Session, account_id: str, feed_id: str) -> None:
    session.delete(get_feed(session, account_id, feed_id))
    session.flush()


# ------------------------------------------------------------------------------ refresh


@dataclass(frozen=True)
class Fetched:
    content: Any = None
    error: str | None = None


def fetch(url: str, method: str, content_type: str, settings: Settings) -> Fetched:
    """One request through the outbound guard (no redirect followed, as Klaviyo follows none),
    bounded by TIDINGS_WEB_FEED_TIMEOUT_SECONDS and TIDINGS_WEB_FEED_MAX_BYTES; never raises."""
    policy = Policy(
        allow_private=settings.allow_private_urls,
        timeout=settings.web_feed_timeout_seconds,
        max_bytes=settings.web_feed_max_bytes,
        redirects=0,
    )
    accept = "application/json" if content_type == "json" else "application/xml, text/xml"

    async def go() -> tuple[int, bytes]:
        async with OutboundClient(policy, user_agent=USER_AGENT) as client:
            response = await client.request(method.upper(), url, headers={"Accept": accept})
            return response.status_code, response.body

    try:
        status, body = asyncio.run(go())
    except (URLRefused, OutboundFailed) as error:
        return Fetched(error=str(error))
    if not 200 <= status < 300:
        return Fetched(error=f"The feed answered HTTP {status}.")
    try:
        return Fetched(content=parse(body, content_type))
    except ContentError as error:
        return Fetched(error=str(error))


def record(
    session: Session, settings: Settings, account_id: str, feed_id: str, generation: int, result: Fetched
) -> None:
    """Store a refresh's outcome, unless the feed was deleted or now fetches something else."""
    feed = session.get(WebFeed, (account_id, feed_id))
    if feed is None or feed.generation != generation:
        return
    now = utcnow()
    feed.attempted_at = now
    periodic = dt.timedelta(seconds=settings.web_feed_refresh_seconds)
    if result.error is None:
        feed.content, feed.fetched_at, feed.failures, feed.last_error = result.content, now, 0, None
        feed.status = "ok"
        feed.next_refresh_at = now + periodic
        return
    feed.failures += 1
    feed.last_error = result.error[:2000]
    log.warning("web_feed.refresh_failed", extra={"feed_id": feed.id, "error": result.error})
    if feed.fetched_at is None:
        feed.status = "disabled"
    elif feed.failures >= CRITICAL_AFTER:
        feed.status = "critical_nightly_refresh_timeout"
    elif feed.failures >= NIGHTLY_AFTER:
        feed.status = "warning_nightly_refresh_timeout"
    else:
        feed.status = "warning_periodic_refresh_timeout"
    feed.next_refresh_at = now + (NIGHTLY if feed.failures >= NIGHTLY_AFTER else periodic)


def refresh(session: Session, settings: Settings, account_id: str, payload: dict[str, Any]) -> None:
    """The refresh job: fetch with no transaction open (everything it needs is in the payload),
    then record the outcome."""
    result = fetch(
        str(payload["url"]), str(payload["request_method"]), str(payload["content_type"]), settings
    )
    record(session, settings, account_id, str(payload["feed_id"]), int(payload["generation"]), result)


def enqueue_due(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Queue a refresh of every feed whose time has come (a system-wide scan, like the catalog
    feeds'); the next one is pushed back so a slow refresh is not queued twice."""
    due = list(session.execute(select(WebFeed).where(WebFeed.next_refresh_at <= now)).scalars())
    for feed in due:
        late = (
            NIGHTLY
            if feed.failures >= NIGHTLY_AFTER
            else dt.timedelta(seconds=settings.web_feed_refresh_seconds)
        )
        feed.next_refresh_at = now + late
        _enqueue_refresh(session, feed, now)
    return len(due)


# ------------------------------------------------------------------------------ templates


def contents(session: Session, account_id: str, name: str) -> Any:
    """The last good content of the account's feed of this name (None: no such feed, or never
    fetched). A database read: templates never wait on the network."""
    stmt = select(WebFeed.content, WebFeed.fetched_at).where(
        WebFeed.account_id == account_id, WebFeed.name == name
    )
    row = session.execute(stmt).first()
    return None if row is None or row.fetched_at is None else row.content
