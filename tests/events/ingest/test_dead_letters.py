"""Dead letters: retried as they were accepted (the rules of the key that sent them, the time they
were received), however many times a retry fails again."""

from __future__ import annotations

import datetime as dt
import json
import time

from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import AccountKeys
from tests.events.ingest.test_api import event_body
from tidings.cli import app
from tidings.config import get_settings
from tidings.db.ids import ulid
from tidings.events.ingest import dead_letters
from tidings.events.ingest.tables import EventFailure
from tidings.events.tables import Event
from tidings.jobs.worker import drain
from tidings.profiles import service as profiles
from tidings.profiles.tables import Profile


def _failures(db, account_id: str) -> list[EventFailure]:
    with db.read() as session:
        query = select(EventFailure).where(EventFailure.account_id == account_id)
        return list(session.execute(query).scalars())


def _retry(db, account_id: str) -> None:
    (failure,) = _failures(db, account_id)
    with db.write() as session:
        dead_letters.retry(session, account_id, failure.id)
    drain(db)


def _merged_pair(db, account_id: str) -> tuple[str, str, str]:
    """Two profiles, the second merged into the first: (kept, merged away, merge id)."""
    with db.write() as session:
        kept = profiles.create_profile(session, account_id, {"email": "frank@example.com"}).profile.id
        gone = profiles.create_profile(session, account_id, {"email": "erin@example.com"}).profile.id
    with db.write() as session:
        merge_id = profiles.merge_profiles(session, account_id, kept, [gone])
    return kept, gone, merge_id


def test_a_client_event_retried_again_and_again_keeps_the_client_rules(
    db, client, account: AccountKeys
) -> None:
    _, gone, merge_id = _merged_pair(db, account.id)
    body = event_body(email=None, profile={"phone_number": "+14155550777", "external_id": "ext-injected"})
    body["data"]["attributes"]["profile"]["data"]["id"] = gone
    response = client.post(
        f"/client/events?company_id={account.public_key}", json=body, headers={"revision": "2026-10-15"}
    )
    assert response.status_code == 202, response.text
    drain(db)
    (first,) = _failures(db, account.id)
    accepted = first.received
    time.sleep(1.1)  # a retry that took the time of the retry would show it
    _retry(db, account.id)  # the profile is still merged away: it fails again, twice
    _retry(db, account.id)
    (again,) = _failures(db, account.id)
    assert (again.kind, again.received) == ("client_event", accepted)

    with db.write() as session:
        profiles.unmerge(session, account.id, merge_id)
    _retry(db, account.id)
    assert _failures(db, account.id) == []
    with db.read() as session:
        profile = session.get(Profile, (account.id, gone))
        (event,) = session.execute(select(Event).where(Event.profile_id == gone)).scalars()
    # A public key may not change an existing profile's identifiers, on a retry neither.
    assert (profile.phone_number, profile.external_id) == (None, None)
    assert event.source == "client"
    assert event.time == accepted.astimezone(dt.UTC).replace(microsecond=0)


def test_a_legacy_retry_keeps_the_time_it_was_received(db, client, account: AccountKeys) -> None:
    payload = {"token": account.public_key, "event": "No One", "customer_properties": {"Plan": "Gold"}}
    assert client.post("/api/track", data={"data": json.dumps(payload)}).text == "1"
    drain(db)
    (first,) = _failures(db, account.id)
    time.sleep(1.1)
    _retry(db, account.id)
    (again,) = _failures(db, account.id)
    assert (again.kind, again.received, again.payload) == ("legacy_track", first.received, first.payload)


RECEIVED = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


def _whole_row_failure(db, account_id: str, payload: str) -> str:
    """A dead letter as a batch that raised leaves it: the whole inbox row, pointer `/`."""
    failure_id = ulid()
    with db.write() as session:
        session.add(
            EventFailure(
                account_id=account_id,
                id=failure_id,
                inbox_id=ulid(),
                kind="event",
                item_pointer="/",
                payload=payload,
                error="OperationalError: the database went away",
                received=RECEIVED,
                created=RECEIVED,
            )
        )
    return failure_id


def test_a_row_that_failed_as_a_whole_can_be_retried(db, account: AccountKeys) -> None:
    # A batch that raises is retried row by row; a row that still raises is kept whole, as its
    # envelope. Retrying it used to wrap the envelope as one group: a KeyError on every retry.
    group = {
        "profile": {"email": "whole@example.com"},
        "events": [{"metric": "Placed Order", "properties": {}, "time": None, "unique_id": "w-1"}],
    }
    envelope = {"source": "api", "received": RECEIVED.isoformat(), "groups": [group]}
    _whole_row_failure(db, account.id, json.dumps(envelope))
    _retry(db, account.id)
    assert _failures(db, account.id) == []
    with db.read() as session:
        (event,) = session.execute(select(Event).where(Event.account_id == account.id)).scalars()
    assert (event.unique_id, event.time) == ("w-1", RECEIVED)


def test_a_payload_that_is_not_json_cannot_be_retried_and_says_so(
    db, database_url, account: AccountKeys, monkeypatch
) -> None:
    failure_id = _whole_row_failure(db, account.id, "{not json")
    monkeypatch.setenv("TIDINGS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["events", "retry", failure_id, "--account", account.id])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "not JSON" in result.output
    assert len(_failures(db, account.id)) == 1


def test_a_profile_property_past_the_limit_is_a_dead_letter_naming_it(
    db, client, database_url, account: AccountKeys, monkeypatch
) -> None:
    # 400 properties: the limit. An event's profile block adds one more: the event is stored (it
    # was acknowledged), the property is not, and a dead letter says which, on which profile.
    full = {f"p{i}": i for i in range(400)}
    body = {"data": {"type": "profile", "attributes": {"email": "full@example.com", "properties": full}}}
    created = client.post("/api/profiles", json=body, headers=account.headers())
    assert created.status_code == 201, created.text
    profile_id = created.json()["data"]["id"]
    event = event_body(email="full@example.com", profile={"properties": {"Loyalty": "gold", "p1": -1}})
    assert client.post("/api/events", json=event, headers=account.headers()).status_code == 202
    drain(db)

    with db.read() as session:
        (stored,) = session.execute(select(Event).where(Event.account_id == account.id)).scalars()
        profile = session.get(Profile, (account.id, profile_id))
    assert stored.profile_id == profile_id
    assert len(profile.properties) == 400 and "Loyalty" not in profile.properties
    assert profile.properties["p1"] == 1  # the block's properties are applied together or not at all
    (failure,) = _failures(db, account.id)
    assert failure.kind == "profile_properties"
    assert "'Loyalty'" in failure.error and profile_id in failure.error and "p1" not in failure.error

    monkeypatch.setenv("TIDINGS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        listed = CliRunner().invoke(app, ["events", "failed", "--account", account.id])
    finally:
        get_settings.cache_clear()
    assert listed.exit_code == 0
    assert "profile_properties" in listed.output and "'Loyalty'" in listed.output

    # Once there is room, a retry applies the block again, and only the block: no second event.
    unset = {
        "data": {
            "type": "profile",
            "id": profile_id,
            "attributes": {},
            "meta": {"patch_properties": {"unset": "p0"}},
        }
    }
    assert (
        client.patch(f"/api/profiles/{profile_id}", json=unset, headers=account.headers()).status_code == 200
    )
    _retry(db, account.id)
    assert _failures(db, account.id) == []
    with db.read() as session:
        profile = session.get(Profile, (account.id, profile_id))
        events = session.execute(select(Event).where(Event.account_id == account.id)).scalars().all()
    assert (profile.properties["Loyalty"], profile.properties["p1"], len(events)) == ("gold", -1, 1)
