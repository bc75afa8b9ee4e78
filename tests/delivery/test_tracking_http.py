"""Opens and clicks through HTTP: the pixel, the redirect, and the events they become."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tests.conftest import AccountKeys
from tests.delivery.fakes import plan_send
from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.db.session import Database
from tidings.delivery import tracking_events
from tidings.delivery.tables import MessageSend, SendStatus, TrackingHit
from tidings.delivery.tracking import TrackingLinks, signer_for
from tidings.delivery.tracking_hits import TRACK_JOB
from tidings.delivery.tracking_routes import GIF
from tidings.delivery.tracking_routes import router as tracking_router
from tidings.events.tables import Event, Metric
from tidings.jobs.queue import enqueue
from tidings.jobs.worker import drain

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
CONTEXT = {"$message": "01JMESSAGE", "Campaign Name": "Summer Sale", "Subject": "Hello", "$variation": "A"}


@dataclass
class Sent:
    account_id: str
    send_id: str
    profile_id: str
    links: TrackingLinks


def path_of(url: str) -> str:
    return urlsplit(url).path


@pytest.fixture
def sent(client: TestClient, db: Database, account: AccountKeys) -> Sent:
    return make_sent(client, db, account, sent_ago=3600)


def make_sent(client: TestClient, db: Database, account: AccountKeys, *, sent_ago: float) -> Sent:
    body = {"data": {"type": "profile", "attributes": {"email": f"ada.{utcnow().timestamp()}@Example.org"}}}
    profile = client.post("/api/profiles", json=body, headers=account.headers())
    assert profile.status_code == 201, profile.text
    profile_id = profile.json()["data"]["id"]
    with db.write() as session:
        send = plan_send(session, account.id, profile_id=profile_id).send
        session.execute(
            update(MessageSend)
            .where(MessageSend.account_id == account.id, MessageSend.id == send.id)
            .values(
                status=SendStatus.SENT.value,
                recipient="ada@Example.org",
                context=CONTEXT,
                finished_at=utcnow() - dt.timedelta(seconds=sent_ago),
            )
        )
        signer = signer_for(session, db.settings)
    return Sent(account.id, send.id, profile_id, TrackingLinks(signer, account.id, send.id))


def events_of(db: Database, sent: Sent, metric: str) -> list[dict[str, Any]]:
    # What the sweep does every 2 s for hits that came after their slot's job ran.
    with db.write() as session:
        enqueue(session, TRACK_JOB, account_id=sent.account_id, dedup_key=ulid())
    drain(db)
    with db.read() as session:
        rows = session.execute(
            select(Event.properties, Event.time)
            .join(Metric, (Metric.account_id == Event.account_id) & (Metric.id == Event.metric_id))
            .where(
                Event.account_id == sent.account_id,
                Event.profile_id == sent.profile_id,
                Metric.name == metric,
            )
            .order_by(Event.id)
        ).all()
    return [row.properties for row in rows]


def send_row(db: Database, sent: Sent) -> MessageSend:
    with db.read() as session:
        row = session.get(MessageSend, (sent.account_id, sent.send_id))
        assert row is not None
        return row


def test_each_open_is_an_event_with_klaviyos_properties(client: TestClient, db: Database, sent: Sent) -> None:
    for _ in range(2):
        response = client.get(path_of(sent.links.open_url()), headers={"User-Agent": IPHONE})
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/gif"
        assert response.headers["cache-control"].startswith("no-store")
        assert len(response.content) == 43 and response.content.startswith(b"GIF89a")
    opens = events_of(db, sent, "Opened Email")
    assert len(opens) == 2
    first = opens[0]
    assert {k: first[k] for k in CONTEXT} == CONTEXT
    assert first["Email Domain"] == "example.org"
    assert first["Client OS Family"] == "iOS" and first["Client Type"] == "Mobile"
    assert first["Client Name"] and first["Client OS"].startswith("iOS")
    assert first["$event_id"].startswith(f"{sent.send_id}:")
    assert first["Apple Privacy Open"] is False and first["machine_open"] is False
    assert send_row(db, sent).opened_at is not None
    assert events_of(db, sent, "Opened Email") == opens  # processing again records nothing more


def test_apple_and_gmail_proxy_opens_are_machine_opens(client: TestClient, db: Database, sent: Sent) -> None:
    client.get(path_of(sent.links.open_url()), headers={"User-Agent": "Mozilla/5.0"})
    gmail = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
    client.get(path_of(sent.links.open_url()), headers={"User-Agent": gmail})
    opens = events_of(db, sent, "Opened Email")
    (apple,) = [o for o in opens if o["Client Name"] != "Gmail"]
    (google,) = [o for o in opens if o["Client Name"] == "Gmail"]
    assert apple["Apple Privacy Open"] is True and apple["machine_open"] is True
    assert google["Apple Privacy Open"] is False and google["machine_open"] is True
    assert google["Client Name"] == "Gmail" and google["Client Type"] == "Webmail"


def test_a_click_redirects_and_is_recorded(client: TestClient, db: Database, sent: Sent) -> None:
    url = "https://shop.test/sale?utm_source=Klaviyo"
    response = client.get(
        path_of(sent.links.click_url(3, url)), headers={"User-Agent": CHROME}, follow_redirects=False
    )
    assert response.status_code == 302
    assert response.headers["location"] == url
    (clicked,) = events_of(db, sent, "Clicked Email")
    assert clicked["URL"] == url and clicked["Bot Click"] is False
    assert clicked["Campaign Name"] == "Summer Sale" and clicked["Client Type"] == "Desktop"
    row = send_row(db, sent)
    assert row.clicked_at is not None


def test_head_requests_and_bots_are_not_human_clicks(client: TestClient, db: Database, sent: Sent) -> None:
    path = path_of(sent.links.click_url(0, "https://shop.test/"))
    head = client.head(path, headers={"User-Agent": CHROME}, follow_redirects=False)
    assert head.status_code == 302 and head.headers["location"] == "https://shop.test/"
    assert events_of(db, sent, "Clicked Email") == []
    client.get(path, headers={"User-Agent": "Mozilla/5.0 HeadlessChrome/120.0"}, follow_redirects=False)
    (bot,) = events_of(db, sent, "Clicked Email")
    assert bot["Bot Click"] is True
    assert send_row(db, sent).clicked_at is None


def test_a_click_as_the_message_arrives_is_a_bot_click(
    client: TestClient, db: Database, account: AccountKeys
) -> None:
    fresh = make_sent(client, db, account, sent_ago=0)
    client.get(
        path_of(fresh.links.click_url(0, "https://shop.test/")),
        headers={"User-Agent": CHROME},
        follow_redirects=False,
    )
    (clicked,) = events_of(db, fresh, "Clicked Email")
    assert clicked["Bot Click"] is True
    assert send_row(db, fresh).clicked_at is None


def test_forged_tokens_are_refused(client: TestClient, db: Database, sent: Sent) -> None:
    good = path_of(sent.links.click_url(0, "https://shop.test/"))
    forged = good[:-3] + ("xyz" if not good.endswith("xyz") else "abc")
    with db.read() as session:
        before = session.execute(select(func.count()).select_from(TrackingHit)).scalar_one()
    response = client.get(forged, follow_redirects=False)
    assert response.status_code == 404 and "location" not in response.headers
    assert "text/html" in response.headers["content-type"]
    # another address in a signed-looking token: still no redirect
    assert (
        client.get("/t/c/eyJ1cmwiOiJodHRwczovL2V2aWwudGVzdCJ9.AAAA", follow_redirects=False).status_code
        == 404
    )
    pixel = client.get(path_of(sent.links.open_url()).replace(".gif", "x.gif"))
    assert pixel.status_code == 200 and len(pixel.content) == 43
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(TrackingHit)).scalar_one() == before
    assert events_of(db, sent, "Clicked Email") == [] and events_of(db, sent, "Opened Email") == []


def test_a_hit_processed_twice_is_recorded_once(client: TestClient, db: Database, sent: Sent) -> None:
    client.get(path_of(sent.links.open_url()), headers={"User-Agent": CHROME})
    with db.read() as session:
        hits = [
            {c.key: getattr(h, c.key) for c in TrackingHit.__table__.columns}
            for h in session.execute(
                select(TrackingHit).where(TrackingHit.account_id == sent.account_id)
            ).scalars()
        ]
    assert len(hits) == 1
    assert len(events_of(db, sent, "Opened Email")) == 1
    with db.write() as session:  # the same hit again, as if its deletion had been lost
        session.execute(TrackingHit.__table__.insert(), hits)
    with db.write() as session:
        batch = tracking_events.process_hits(session, sent.account_id)
    assert batch.hits == 1 and batch.events == 0
    assert len(events_of(db, sent, "Opened Email")) == 1


def test_the_router_answers_as_the_fast_path_does(client: TestClient, db: Database, sent: Sent) -> None:
    bare = FastAPI()
    bare.include_router(tracking_router)
    bare.state.runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with TestClient(bare) as direct:
        click = path_of(sent.links.click_url(0, "https://shop.test/ü?q=a b"))
        for each in (client, direct):
            answer = each.get(click, headers={"User-Agent": CHROME}, follow_redirects=False)
            assert answer.status_code == 302
            assert answer.headers["location"] == "https://shop.test/%C3%BC?q=a%20b"
            assert answer.headers["cache-control"].startswith("no-store")
            assert each.get(click[:-3] + "abc", follow_redirects=False).status_code == 404
            pixel = each.get(path_of(sent.links.open_url()), headers={"User-Agent": CHROME})
            assert pixel.content == GIF and pixel.headers["content-type"] == "image/gif"
    assert len(events_of(db, sent, "Clicked Email")) == 2
    assert len(events_of(db, sent, "Opened Email")) == 2
