"""Sending campaigns over HTTP: send jobs, the status machine, cancel and revert, recipients."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select

from tests.campaigns.conftest import Shop
from tests.campaigns.sendkit import act, follow, outbox, people, rows, run_send, send, sendable, status
from tidings.config import Settings
from tidings.consent import service as consent
from tidings.db.session import Database
from tidings.jobs.tables import Job
from tidings.jobs.worker import drain


def test_a_send_reaches_the_audience_once_and_ends_sent(
    shop: Shop, db: Database, settings: Settings, tmp_path: Path
) -> None:
    account = shop.keys.id
    first, second, excluded = shop.make_list("A"), shop.make_list("B"), shop.make_list("Not these")
    a = people(db, account, first, [{"email": f"a{n}@example.com", "first_name": f"A{n}"} for n in range(3)])
    people(db, account, first, [{"phone_number": "+16175550100"}])  # no email: skipped
    shared = a[2]
    with db.write() as session:
        from tidings.lists import service as lists

        lists.add_profiles(session, account, second, [shared])  # in two lists: one message
    gone = people(db, account, excluded, [{"email": "gone@example.com"}])
    with db.write() as session:
        from tidings.lists import service as lists

        lists.add_profiles(session, account, first, gone)  # in an included and an excluded list
        consent.suppress(session, account, a[1])  # suppressed: skipped by the gate
    campaign = sendable(
        shop, {"name": "Launch", "audiences": {"included": [first, second], "excluded": [excluded]}}
    )

    response = send(shop, campaign["id"])
    assert response.status_code == 202, response.text
    assert response.json()["data"] == {
        "type": "campaign-send-job",
        "id": campaign["id"],
        "attributes": {"status": "queued"},
        "links": {"self": f"http://testserver/api/campaign-send-jobs/{campaign['id']}"},
    }
    assert status(shop, campaign["id"]) == "Adding Recipients"
    again = send(shop, campaign["id"])  # a double click: the same job, no second send
    assert again.status_code == 202 and again.json()["data"]["id"] == campaign["id"]
    with db.read() as session:
        queued = session.execute(
            select(func.count()).where(Job.account_id == account, Job.name == "campaigns.send")
        ).scalar_one()
    assert queued == 1

    drain(db)
    assert status(shop, campaign["id"]) == "Sending"
    planned = rows(db, account, campaign["message"])
    assert len(planned) == 4 and gone[0] not in {r.profile_id for r in planned}
    run_send(db, outbox(settings, tmp_path), account, campaign["id"])
    assert status(shop, campaign["id"]) == "Sent"
    by_profile = {r.profile_id: (r.status, r.reason) for r in rows(db, account, campaign["message"])}
    assert by_profile[a[0]] == ("sent", None) and by_profile[a[2]] == ("sent", None)
    assert by_profile[a[1]] == ("skipped", "Person Suppressed")
    assert sorted(by_profile.values(), key=str).count(("skipped", "Missing Email")) == 1
    assert len(list((tmp_path / "outbox").glob("*/*.eml"))) == 2

    job = shop.request("GET", f"/api/campaign-send-jobs/{campaign['id']}").json()["data"]
    assert job["attributes"] == {"status": "complete"}
    assert job["meta"]["recipients"] == 4
    assert job["meta"]["sends"] == {"sent": 2, "skipped": 2}
    assert job["meta"]["skipped"] == {"Person Suppressed": 1, "Missing Email": 1}
    # Sent: nothing changes any more, and asking to send again changes nothing either.
    edit = shop.request(
        "PATCH",
        f"/api/campaigns/{campaign['id']}",
        json={"data": {"type": "campaign", "id": campaign["id"], "attributes": {"name": "Later"}}},
    )
    assert edit.status_code == 400 and "'Sent' cannot be edited" in edit.json()["errors"][0]["detail"]
    cancel = act(shop, campaign["id"], "cancel")
    assert cancel.status_code == 400
    assert cancel.json()["errors"][0]["source"] == {"pointer": "/data/attributes/action"}
    assert send(shop, campaign["id"]).json()["data"]["attributes"]["status"] == "complete"
    assert len(rows(db, account, campaign["message"])) == 4


def test_a_schedule_in_the_past_is_refused_at_its_pointer(shop: Shop) -> None:
    list_id = shop.make_list()
    past = {"method": "static", "datetime": "2020-01-01T10:00:00Z"}
    response = shop.create({"name": "Late", "audiences": {"included": [list_id]}, "send_strategy": past})
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"pointer": "/data/attributes/send_strategy/datetime"}


def test_a_scheduled_campaign_waits_then_reverts_to_an_editable_draft(
    shop: Shop, db: Database, settings: Settings, tmp_path: Path
) -> None:
    account = shop.keys.id
    list_id = shop.make_list()
    people(db, account, list_id, [{"email": f"s{n}@example.com"} for n in range(3)])
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(microsecond=0)
    strategy = {"method": "static", "datetime": when.isoformat()}
    campaign = sendable(
        shop, {"name": "Later", "audiences": {"included": [list_id]}, "send_strategy": strategy}
    )
    assert send(shop, campaign["id"]).status_code == 202
    run_send(db, outbox(settings, tmp_path), account, campaign["id"])
    assert status(shop, campaign["id"]) == "Scheduled"
    planned = rows(db, account, campaign["message"])
    assert [(r.status, r.planned_for) for r in planned] == [("planned", when)] * 3
    assert not list(tmp_path.glob("outbox/*/*.eml"))  # nobody gets it early
    edit = shop.request(
        "PATCH",
        f"/api/campaigns/{campaign['id']}",
        json={"data": {"type": "campaign", "id": campaign["id"], "attributes": {"name": "Renamed"}}},
    )
    assert edit.status_code == 400 and "Revert it to Draft first" in edit.json()["errors"][0]["detail"]

    assert act(shop, campaign["id"], "revert").status_code == 204
    assert status(shop, campaign["id"]) == "Draft"
    assert rows(db, account, campaign["message"]) == []
    job = shop.request("GET", f"/api/campaign-send-jobs/{campaign['id']}").json()["data"]
    assert job["attributes"]["status"] == "cancelled"
    assert edit.status_code == 400
    renamed = shop.request(
        "PATCH",
        f"/api/campaigns/{campaign['id']}",
        json={"data": {"type": "campaign", "id": campaign["id"], "attributes": {"name": "Renamed"}}},
    )
    assert renamed.status_code == 200, renamed.text
    # Sent again: the recipients are decided again.
    assert send(shop, campaign["id"]).json()["data"]["attributes"]["status"] == "queued"
    drain(db)
    assert status(shop, campaign["id"]) == "Scheduled" and len(rows(db, account, campaign["message"])) == 3
    # At its time it sends.
    follow(db, account, campaign["id"], now=when + dt.timedelta(seconds=1))
    assert status(shop, campaign["id"]) == "Sending"


def test_a_cancel_stops_everything_still_planned(
    shop: Shop, db: Database, settings: Settings, tmp_path: Path
) -> None:
    account = shop.keys.id
    list_id = shop.make_list()
    people(db, account, list_id, [{"email": f"c{n}@example.com"} for n in range(4)])
    campaign = sendable(shop, {"name": "Oops", "audiences": {"included": [list_id]}})
    assert send(shop, campaign["id"]).status_code == 202
    drain(db)
    assert status(shop, campaign["id"]) == "Sending"
    revert = act(shop, campaign["id"], "revert")
    assert revert.status_code == 400 and "cancel it instead" in revert.json()["errors"][0]["detail"]
    assert act(shop, campaign["id"], "cancel").status_code == 204
    run_send(db, outbox(settings, tmp_path), account, campaign["id"])
    assert {r.status for r in rows(db, account, campaign["message"])} == {"cancelled"}
    assert not list(tmp_path.glob("outbox/*/*.eml"))
    assert status(shop, campaign["id"]) == "Cancelled"
    assert send(shop, campaign["id"]).status_code == 400  # a cancelled campaign is not sent again


def test_a_campaign_nobody_can_get_is_cancelled_without_recipients(shop: Shop, db: Database) -> None:
    campaign = sendable(shop, {"name": "Empty", "audiences": {"included": [shop.make_list()]}})
    assert send(shop, campaign["id"]).status_code == 202
    drain(db)
    assert status(shop, campaign["id"]) == "Cancelled: No Recipients"
    job = shop.request("GET", f"/api/campaign-send-jobs/{campaign['id']}").json()["data"]
    assert job["attributes"]["status"] == "cancelled" and job["meta"]["recipients"] == 0


def test_what_cannot_be_sent_is_refused(shop: Shop, other_shop: Shop) -> None:
    list_id = shop.make_list()
    response = shop.create({"name": "No template", "audiences": {"included": [list_id]}})
    campaign_id = response.json()["data"]["id"]
    refused = send(shop, campaign_id)
    assert refused.status_code == 400 and "no template" in refused.json()["errors"][0]["detail"]
    assert refused.json()["errors"][0]["source"] == {"pointer": "/data/id"}
    assert send(shop, "01HZZZZZZZZZZZZZZZZZZZZZZZ").status_code == 404
    assert send(other_shop, campaign_id).status_code == 404
    assert shop.request("GET", f"/api/campaign-send-jobs/{campaign_id}").status_code == 404
    assert act(shop, campaign_id, "cancel").status_code == 404
    bad = shop.request(
        "PATCH",
        f"/api/campaign-send-jobs/{campaign_id}",
        json={"data": {"type": "campaign-send-job", "id": campaign_id, "attributes": {"action": "pause"}}},
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["source"] == {"pointer": "/data/attributes/action"}


def test_recipient_estimation_counts_who_may_receive(shop: Shop, db: Database) -> None:
    account = shop.keys.id
    list_id, excluded = shop.make_list(), shop.make_list("Excluded")
    ids = people(db, account, list_id, [{"email": f"e{n}@example.com"} for n in range(5)])
    people(db, account, list_id, [{"phone_number": "+16175550111"}])  # no email
    with db.write() as session:
        from tidings.lists import service as lists

        lists.add_profiles(session, account, excluded, [ids[0]])
        consent.suppress(session, account, ids[1])
    campaign = sendable(shop, {"name": "Count", "audiences": {"included": [list_id], "excluded": [excluded]}})
    assert shop.request("GET", f"/api/campaign-recipient-estimations/{campaign['id']}").status_code == 404
    body = {"data": {"type": "campaign-recipient-estimation-job", "id": campaign["id"]}}
    created = shop.request("POST", "/api/campaign-recipient-estimation-jobs", json=body)
    assert created.status_code == 202, created.text
    assert created.json()["data"]["attributes"] == {"status": "queued"}
    drain(db)
    job = shop.request("GET", f"/api/campaign-recipient-estimation-jobs/{campaign['id']}").json()["data"]
    assert job["attributes"] == {"status": "complete"}
    estimation = shop.request("GET", f"/api/campaign-recipient-estimations/{campaign['id']}").json()["data"]
    assert estimation["type"] == "campaign-recipient-estimation"
    assert estimation["attributes"] == {"estimated_recipient_count": 3}


def test_an_sms_campaign_goes_to_those_subscribed_to_sms(shop: Shop, db: Database) -> None:
    from tidings.consent.policy import Channel as ConsentChannel
    from tidings.consent.policy import Purpose

    account = shop.keys.id
    list_id = shop.make_list()
    yes, no = people(
        db, account, list_id, [{"phone_number": "+16175550123"}, {"phone_number": "+16175550124"}]
    )
    with db.write() as session:
        consent.subscribe(session, account, yes, ConsentChannel.SMS, Purpose.MARKETING)
    sms = {"channel": "sms", "content": {"body": "Sale today"}}
    campaign = sendable(shop, {"name": "Texts", "audiences": {"included": [list_id]}}, sms)
    body = {"data": {"type": "campaign-recipient-estimation-job", "id": campaign["id"]}}
    assert shop.request("POST", "/api/campaign-recipient-estimation-jobs", json=body).status_code == 202
    assert send(shop, campaign["id"]).status_code == 202
    drain(db)
    estimation = shop.request("GET", f"/api/campaign-recipient-estimations/{campaign['id']}").json()["data"]
    assert estimation["attributes"]["estimated_recipient_count"] == 1
    planned = rows(db, account, campaign["message"])
    assert {(r.profile_id, r.channel) for r in planned} == {(yes, "sms"), (no, "sms")}
    assert status(shop, campaign["id"]) == "Sending"
