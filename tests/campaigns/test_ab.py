"""A/B tests: variations through the official SDK 25, the deterministic even split of the test
share (a property), and a whole test on virtual time: the winner from recorded opens, then the
rest of the audience sent the winner."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_client.exceptions import BadRequestException, NotFoundException
from sqlalchemy import select

from tests.campaigns.conftest import OMNI, Shop
from tests.campaigns.sendkit import outbox, people, rows, send, sendable, status
from tests.reporting.ledger import metric_id
from tidings.campaigns import ab
from tidings.config import Settings
from tidings.db.base import set_clock, utcnow
from tidings.db.ids import ulid
from tidings.db.session import Database
from tidings.delivery.by_source import HELD_UNTIL
from tidings.delivery.worker import deliver_due
from tidings.events.tables import Event, Metric
from tidings.jobs.queue import enqueue
from tidings.jobs.tables import Job
from tidings.jobs.worker import drain


def _variation(shop: Shop, message_id: str, name: str, **details: Any) -> Any:
    body = {
        "data": {
            "type": "campaign-variation",
            "attributes": {"definition": {"name": name, "details": {"channel": "email", **details}}},
            "relationships": {"campaign-message": {"data": {"type": "campaign-message", "id": message_id}}},
        }
    }
    return shop.request("POST", "/api/campaign-variations", json=body, revision=OMNI)


def _ab_settings(shop: Shop, message_id: str, **ab_test: Any) -> None:
    body = {
        "data": {
            "type": "campaign-message",
            "id": message_id,
            "attributes": {"definition": {"ab_test": ab_test}},
        }
    }
    response = shop.request("PATCH", f"/api/campaign-messages/{message_id}", json=body, revision=OMNI)
    assert response.status_code == 200, response.text


def test_variations_through_the_sdk(sdk: Any, shop: Shop, other_shop: Shop) -> None:
    list_id = shop.make_list()
    campaign = sendable(shop, {"name": "Subjects", "audiences": {"included": [list_id]}})
    message_id = campaign["message"]
    template = shop.make_template("<p>Version B</p>", name="B")
    body = {
        "data": {
            "type": "campaign-variation",
            "attributes": {
                "definition": {"name": "B", "details": {"channel": "email", "subject": "Subject B"}}
            },
            "relationships": {"campaign-message": {"data": {"type": "campaign-message", "id": message_id}}},
        }
    }
    created = sdk.Campaigns.create_campaign_variation(body)
    b = created.data.id
    assert b != message_id
    assert created.data.attributes.definition.name == "B"
    assert created.data.attributes.definition.details["subject"] == "Subject B"
    body["data"]["attributes"]["definition"] = {
        "name": "C",
        "details": {"channel": "email", "template_id": template},
    }
    c = sdk.Campaigns.create_campaign_variation(body).data.id
    listed = sdk.Campaigns.get_variations_for_campaign_message(message_id)
    assert [v.id for v in listed.data] == [message_id, b, c]
    details = [v.attributes.definition.details for v in listed.data]
    assert [d["subject"] for d in details] == ["Our launch", "Subject B", "Our launch"]
    assert details[2]["template_id"] not in (None, template, details[0]["template_id"])  # its own copy
    ids = sdk.Campaigns.get_variation_ids_for_campaign_message(message_id)
    assert [v.id for v in ids.data] == [message_id, b, c]
    assert sdk.Campaigns.get_message_id_for_campaign_variation(c).data.id == message_id
    update = {
        "data": {
            "type": "campaign-variation",
            "id": b,
            "attributes": {"definition": {"details": {"channel": "email", "preview_text": "Look"}}},
        }
    }
    updated = sdk.Campaigns.update_campaign_variation(b, update)
    assert updated.data.attributes.definition.details["preview_text"] == "Look"
    assert updated.data.attributes.definition.details["subject"] == "Subject B"
    # The stable shape shows the message as before.
    stable = shop.request("GET", f"/api/campaign-messages/{message_id}").json()["data"]
    assert stable["attributes"]["definition"]["content"]["subject"] == "Our launch"
    assert [r["id"] for r in stable["relationships"]["campaign-variations"]["data"]] == [message_id, b, c]
    # Another account sees none of it and deletes nothing.
    assert other_shop.request("GET", f"/api/campaign-variations/{b}", revision=OMNI).status_code == 404
    assert other_shop.request("DELETE", f"/api/campaign-variations/{b}", revision=OMNI).status_code == 404
    foreign = _variation(other_shop, message_id, "X", subject="X")
    assert foreign.status_code == 404
    pointer = foreign.json()["errors"][0]["source"]["pointer"]
    assert pointer == "/data/relationships/campaign-message/data/id"
    with pytest.raises(BadRequestException) as info:  # the default variation is the message
        sdk.Campaigns.delete_campaign_variation(message_id)
    assert json.loads(info.value.body)["errors"][0]["source"]["pointer"] == "/data/id"
    with pytest.raises(BadRequestException):  # a variation's channel is its message's
        body["data"]["attributes"]["definition"] = {"name": "D", "details": {"channel": "sms", "body": "x"}}
        sdk.Campaigns.create_campaign_variation(body)
    sdk.Campaigns.delete_campaign_variation(c)
    with pytest.raises(NotFoundException):
        sdk.Campaigns.get_campaign_variation(c)
    assert [v.id for v in sdk.Campaigns.get_variations_for_campaign_message(message_id).data] == [
        message_id,
        b,
    ]
    # A clone keeps its variations (new ids); A/B settings given are echoed.
    _ab_settings(shop, message_id, winner_metric="clicks_unique", winner_wait_hours=2)
    message = sdk.Campaigns.get_campaign_message(message_id)
    assert message.data.attributes.definition.ab_test.winner_metric == "clicks_unique"
    clone = shop.request(
        "POST", "/api/campaign-clone", json={"data": {"type": "campaign", "id": campaign["id"]}}
    ).json()["data"]
    clone_message = clone["relationships"]["campaign-messages"]["data"][0]["id"]
    cloned = sdk.Campaigns.get_variations_for_campaign_message(clone_message).data
    assert len(cloned) == 2 and cloned[1].id != b
    assert cloned[1].attributes.definition.details["subject"] == "Subject B"
    refused = shop.request(
        "PATCH",
        f"/api/campaign-messages/{message_id}",
        revision=OMNI,
        json={
            "data": {
                "type": "campaign-message",
                "id": message_id,
                "attributes": {"definition": {"ab_test": {"winner_metric": "placed_orders_unique"}}},
            }
        },
    )
    assert refused.status_code == 400
    assert (
        refused.json()["errors"][0]["source"]["pointer"]
        == "/data/attributes/definition/ab_test/winner_metric"
    )


def test_an_omni_create_with_several_variations_is_an_ab_test(sdk: Any, shop: Shop) -> None:
    list_id = shop.make_list()
    variation = {"definition": {"name": "A", "details": {"channel": "email", "subject": "A"}}}
    other = {"definition": {"name": "B", "details": {"channel": "email", "subject": "B"}}}
    body = {
        "data": {
            "type": "campaign",
            "attributes": {
                "definition": {"name": "Two subjects"},
                "audiences": [{"temporary_id": "a", "included": [list_id]}],
                "messages": [{"audience_temporary_id": "a", "name": "M", "variations": [variation, other]}],
            },
        }
    }
    campaign = sdk.Campaigns.create_campaign(body)
    message_id = campaign.data.relationships.campaign_messages.data[0].id
    listed = sdk.Campaigns.get_variations_for_campaign_message(message_id).data
    assert [v.attributes.definition.details["subject"] for v in listed] == ["A", "B"]


def test_an_ab_test_is_not_throttled_nor_local(shop: Shop) -> None:
    list_id = shop.make_list()
    later = (utcnow() + dt.timedelta(days=1)).isoformat()
    strategy = {"method": "throttled", "datetime": later, "throttle_percentage": 20}
    campaign = sendable(
        shop, {"name": "Throttled", "audiences": {"included": [list_id]}, "send_strategy": strategy}
    )
    assert _variation(shop, campaign["message"], "B", subject="B").status_code == 201
    refused = send(shop, campaign["id"])
    assert refused.status_code == 400 and "A/B" in refused.json()["errors"][0]["detail"]


def _split(profile_ids: list[str], variations: int, winner_percentage: int) -> dict[str, int | None]:
    """The reference: the order of the ids' random part, the first T round robin, the rest held."""
    ordered = sorted(set(profile_ids), key=lambda p: (p[16:], p))
    size = ab.test_size(len(ordered), variations, winner_percentage)
    return {p: (n % variations if n < size else None) for n, p in enumerate(ordered)}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    audience=st.integers(min_value=0, max_value=25),
    extra=st.integers(min_value=1, max_value=3),
    winner_percentage=st.integers(min_value=0, max_value=95),
)
def test_the_test_groups_are_a_deterministic_even_split(
    shop: Shop, db: Database, audience: int, extra: int, winner_percentage: int
) -> None:
    account = shop.keys.id
    list_id = shop.make_list()
    tag = ulid()[-8:].lower()  # each example its own people
    people(db, account, list_id, [{"email": f"p{n}.{tag}@example.com"} for n in range(audience)])
    campaign = sendable(shop, {"name": "Split", "audiences": {"included": [list_id]}})
    message_id = campaign["message"]
    variation_ids = [message_id]
    for n in range(extra):
        created = _variation(shop, message_id, f"V{n}", subject=f"Subject {n}")
        assert created.status_code == 201, created.text
        variation_ids.append(created.json()["data"]["id"])
    _ab_settings(shop, message_id, winner_percentage=winner_percentage)
    assert send(shop, campaign["id"]).status_code == 202
    drain(db)
    planned = rows(db, account, message_id)
    by_profile: dict[str, int | None] = {}
    for row in planned:
        assert row.profile_id not in by_profile  # one row, so one message, per person
        variation = (row.context or {}).get("$variation")
        by_profile[row.profile_id] = variation_ids.index(variation) if variation is not None else None
        assert (variation is None) == (row.planned_for == HELD_UNTIL)
    assert by_profile == _split(list(by_profile), len(variation_ids), winner_percentage)
    assert len(by_profile) == audience
    sizes = [list(by_profile.values()).count(i) for i in range(len(variation_ids))]
    assert max(sizes) - min(sizes) <= 1


def _open(client: Any, settings_: Settings, send_id: str) -> None:
    (path,) = Path(settings_.outbox_dir).glob(f"*/{send_id}.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    part = message.get_body(("html",))  # type: ignore[attr-defined]
    html = part.get_content()
    pixel = html[html.index("/t/o/") :].split('"')[0]
    answer = client.get(pixel, headers={"User-Agent": "Mozilla/5.0 (Macintosh) Firefox/120.0"})
    assert answer.status_code == 200


def _opens_recorded(db: Database, account: str, message_id: str, expected: int) -> None:
    deadline = time.monotonic() + 15  # hits become opens in a job a moment later; not a timing assert
    while time.monotonic() < deadline:
        with db.write() as session:
            enqueue(session, "delivery.sweep_hits")
        drain(db)
        if sum(1 for r in rows(db, account, message_id) if r.opened_at is not None) >= expected:
            return
        time.sleep(0.3)
    raise AssertionError("the opens were not recorded")


def test_the_winner_by_opens_gets_the_rest(
    shop: Shop, db: Database, settings: Settings, tmp_path: Path, sdk: Any
) -> None:
    account = shop.keys.id
    mail = outbox(settings, tmp_path)
    list_id = shop.make_list()
    people(db, account, list_id, [{"email": f"r{n}@example.com"} for n in range(12)])
    campaign = sendable(shop, {"name": "Winner", "audiences": {"included": [list_id]}})
    message_id = campaign["message"]
    b = _variation(shop, message_id, "B", subject="Subject B").json()["data"]["id"]
    _ab_settings(shop, message_id, winner_metric="opens_unique", winner_percentage=50, winner_wait_hours=4)
    assert send(shop, campaign["id"]).status_code == 202
    drain(db)
    with db.read() as session:
        (job,) = session.execute(
            select(Job).where(Job.account_id == account, Job.name == ab.WINNER_JOB)
        ).scalars()
        waits = job.run_at - utcnow()
    assert dt.timedelta(hours=3, minutes=55) < waits <= dt.timedelta(hours=4)  # a durable job, due then
    deliver_due(db, mail)
    test_rows = [r for r in rows(db, account, message_id) if r.status == "sent"]
    assert len(test_rows) == 6
    groups = {v: [r for r in test_rows if r.context["$variation"] == v] for v in (message_id, b)}
    assert [len(g) for g in groups.values()] == [3, 3]
    for row in groups[b][:2] + groups[message_id][:1]:  # B opened twice as often as A
        _open(shop.client, mail, row.id)
    _opens_recorded(db, account, message_id, 3)
    assert status(shop, campaign["id"]) == "Sending"

    later = utcnow() + dt.timedelta(hours=4, minutes=1)
    set_clock(lambda: later)  # virtual time: the test window has passed
    try:
        drain(db)  # the winner's job
        deliver_due(db, mail)
        drain(db)
    finally:
        set_clock(None)
    final = rows(db, account, message_id)
    assert len(final) == 12 and all(r.status == "sent" for r in final)
    rest = [r for r in final if r.id not in {t.id for t in test_rows}]
    assert len(rest) == 6 and all(r.context["$variation"] == b for r in rest)
    subjects = set()
    for row in rest:
        (path,) = Path(mail.outbox_dir).glob(f"*/{row.id}.eml")
        subjects.add(email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["Subject"])
    assert subjects == {"Subject B"}
    with db.read() as session:
        received = session.execute(
            select(Event.properties)
            .join(Metric, (Metric.account_id == Event.account_id) & (Metric.id == Event.metric_id))
            .where(Event.account_id == account, Metric.name == "Opened Email")
        ).scalars()
        assert sorted(p["$variation"] for p in received) == sorted([b, b, message_id])
    meta = shop.request("GET", f"/api/campaign-send-jobs/{campaign['id']}").json()["data"]["meta"]["ab_test"]
    assert meta["winner"] == b and meta["held"] == 0 and meta["winner_wait_hours"] == 4
    by_id = {v["id"]: v for v in meta["variations"]}
    assert by_id[b]["opens_unique"] == 2 and by_id[message_id]["opens_unique"] == 1
    assert by_id[b]["sends"] == {"sent": 9} and by_id[message_id]["sends"] == {"sent": 3}
    report = sdk.Reporting.query_campaign_values(
        {
            "data": {
                "type": "campaign-values-report",
                "attributes": {
                    "statistics": ["recipients", "opens_unique"],
                    "timeframe": {
                        "start": (utcnow() - dt.timedelta(days=1)).isoformat(),
                        "end": (utcnow() + dt.timedelta(days=1)).isoformat(),
                    },
                    "conversion_metric_id": metric_id(db, account),
                    "group_by": ["campaign_id", "campaign_message_id", "variation", "variation_name"],
                },
            }
        }
    )
    per_variation = {r.groupings["variation"]: r.statistics for r in report.data.attributes.results}
    assert per_variation[b]["recipients"] == 9 and per_variation[message_id]["recipients"] == 3
    names = {r.groupings["variation"]: r.groupings["variation_name"] for r in report.data.attributes.results}
    assert names == {b: "B", message_id: "Launch"}
