"""Turning open and click hits into `Opened Email` and `Clicked Email` events, in batches.

Each event carries the ledger row's context (`$message`, `Campaign Name` or `$flow`,
`$variation`, `Subject` ..., fixed when the message was rendered), `Email Domain`, `$event_id`,
the client read from the User-Agent by `ua-parser` (`Client Name`, `Client OS`,
`Client OS Family`, `Client Type`), `URL` for a click, and how it was classified:
- `Apple Privacy Open` (the property Klaviyo puts on every open, true or false) for an open
  through Apple Mail Privacy Protection's proxy: Apple's generic `Mozilla/5.0` user agent, or
  an address in Apple's network (17.0.0.0/8);
- `machine_open` (ours): any open made by a machine rather than seen by a person, Apple's
  proxy or a mail provider's image proxy (Gmail's `GoogleImageProxy`, Yahoo's);
- `Bot Click` (Klaviyo's name) for a click by a crawler, a headless browser or an HTTP
  library, or one within `BOT_CLICK_SECONDS` of delivery (a security scanner at the receiving
  server follows every link as the message arrives).
A HEAD request follows no link (scanners probe with it): it is answered and then dropped,
never an event. A send's `opened_at` is its first open (machine opens included, as Klaviyo
counts them in opens); `clicked_at` its first click that was not a bot's.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from ua_parser import parse

from tidings.db.dialect import in_values, skip_locked
from tidings.delivery.tables import MessageSend, TrackingHit
from tidings.events.metrics import KLAVIYO, MetricKey
from tidings.events.store import NewEvent, write_events

OPENED = MetricKey("Opened Email", KLAVIYO)
CLICKED = MetricKey("Clicked Email", KLAVIYO)
BATCH = 2000
BOT_CLICK_SECONDS = 2.0
APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")
APPLE_PROXY_AGENT = "Mozilla/5.0"
_IMAGE_PROXY = re.compile(r"GoogleImageProxy|YahooMailProxy|ggpht\.com", re.IGNORECASE)
_BOT = re.compile(
    r"bot\b|crawl|spider|slurp|headless|phantomjs|puppeteer|playwright|selenium|python-|curl/|wget/"
    r"|go-http-client|java/|okhttp|libwww|httpclient|axios|node-fetch|scanner|barracuda|proofpoint"
    r"|mimecast|preview|facebookexternalhit",
    re.IGNORECASE,
)
_MOBILE_OS = {"iOS", "Android", "iPadOS", "Windows Phone", "BlackBerry OS"}


@dataclass(frozen=True)
class Client:
    name: str
    os: str
    os_family: str
    type: str
    bot: bool
    proxy: bool  # a mail provider's image proxy (not Apple's)

    def properties(self) -> dict[str, Any]:
        return {
            "Client Name": self.name,
            "Client OS": self.os,
            "Client OS Family": self.os_family,
            "Client Type": self.type,
        }


@lru_cache(maxsize=4096)
def client_of(user_agent: str | None) -> Client:
    agent = (user_agent or "").strip()
    if not agent:
        return Client("Unknown", "Unknown", "Unknown", "Unknown", False, False)
    if _IMAGE_PROXY.search(agent):
        name = "Gmail" if "Google" in agent or "ggpht" in agent else "Yahoo Mail"
        return Client(name, "Unknown", "Unknown", "Webmail", False, True)
    result = parse(agent)
    name = result.user_agent.family if result.user_agent else "Other"
    os_family = result.os.family if result.os else "Other"
    os = " ".join(p for p in (os_family, result.os.major if result.os else None) if p)
    device = result.device.family if result.device else "Other"
    bot = device == "Spider" or bool(_BOT.search(agent))
    if bot:
        kind = "Bot"
    elif os_family in _MOBILE_OS or device in ("iPhone", "iPad"):
        kind = "Mobile"
    elif os_family == "Other" and name == "Other":
        kind = "Unknown"
    else:
        kind = "Desktop"
    return Client(name, os or "Other", os_family, kind, bot, False)


def apple_privacy_open(user_agent: str | None, ip: str | None) -> bool:
    if (user_agent or "").strip() == APPLE_PROXY_AGENT:
        return True
    if ip:
        try:
            return ipaddress.ip_address(ip) in APPLE_NETWORK
        except ValueError:
            return False
    return False


@dataclass(frozen=True)
class Batch:
    hits: int
    events: int
    more: bool


def process_hits(session: Session, account_id: str, limit: int = BATCH) -> Batch:
    """Record the events of one batch of the account's hits and delete those hits, in the
    caller's transaction (the job runner's): each hit is recorded once however often this runs."""
    hits = list(
        session.execute(
            skip_locked(
                session,
                select(TrackingHit)
                .where(TrackingHit.account_id == account_id)
                .order_by(TrackingHit.id)
                .limit(limit),
            )
        ).scalars()
    )
    if not hits:
        return Batch(0, 0, False)
    send_ids = sorted({hit.send_id for hit in hits})
    sends = {
        row.id: row
        for row in session.execute(
            select(
                MessageSend.id,
                MessageSend.profile_id,
                MessageSend.recipient,
                MessageSend.context,
                MessageSend.finished_at,
            ).where(MessageSend.account_id == account_id, in_values(session, MessageSend.id, send_ids))
        )
    }
    events: list[NewEvent] = []
    first_open: dict[str, dt.datetime] = {}
    first_click: dict[str, dt.datetime] = {}
    for hit in hits:
        send = sends.get(hit.send_id)
        if send is None or hit.method == "HEAD":  # a deleted send (privacy deletion); a probe
            continue
        client = client_of(hit.user_agent)
        properties: dict[str, Any] = dict(send.context or {})
        recipient = send.recipient or ""
        properties["Email Domain"] = recipient.rpartition("@")[2].lower() if "@" in recipient else ""
        properties["$event_id"] = f"{hit.send_id}:{hit.id}"
        properties.update(client.properties())
        if hit.kind == "open":
            apple = apple_privacy_open(hit.user_agent, hit.ip)
            properties["Apple Privacy Open"] = apple
            properties["machine_open"] = apple or client.proxy or client.bot
            metric = OPENED
            _keep_first(first_open, hit.send_id, hit.received)
        else:
            sent = send.finished_at
            early = sent is not None and (hit.received - sent).total_seconds() < BOT_CLICK_SECONDS
            bot = client.bot or early
            properties["URL"] = hit.url
            properties["Bot Click"] = bot
            metric = CLICKED
            if not bot:
                _keep_first(first_click, hit.send_id, hit.received)
        events.append(
            NewEvent(
                profile_id=send.profile_id,
                metric=metric,
                time=hit.received,
                properties=properties,
                unique_id=hit.id,
                source="internal",
            )
        )
    written = write_events(session, account_id, events)
    _set_first(session, account_id, MessageSend.opened_at, first_open)
    _set_first(session, account_id, MessageSend.clicked_at, first_click)
    session.execute(
        delete(TrackingHit).where(
            TrackingHit.account_id == account_id, in_values(session, TrackingHit.id, [hit.id for hit in hits])
        )
    )
    return Batch(len(hits), len(written), len(hits) >= limit)


def _keep_first(firsts: dict[str, dt.datetime], send_id: str, when: dt.datetime) -> None:
    if send_id not in firsts or when < firsts[send_id]:
        firsts[send_id] = when


def _set_first(session: Session, account_id: str, column: Any, firsts: dict[str, dt.datetime]) -> None:
    by_time: dict[dt.datetime, list[str]] = defaultdict(list)
    for send_id, when in firsts.items():
        by_time[when].append(send_id)
    for when, send_ids in by_time.items():
        session.execute(
            update(MessageSend)
            .where(
                MessageSend.account_id == account_id,
                in_values(session, MessageSend.id, send_ids),
                column.is_(None),
            )
            .values({column.key: when}),
            execution_options={"synchronize_session": False},
        )
