"""Ingestion: accepted fast (202), applied by the processor, every bad payload refused precisely."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest
from sqlalchemy import func, select

from tests.conftest import AccountKeys, backend
from tidings.events.ingest.inbox import InboxItem, InboxWriter
from tidings.events.ingest.tables import EventFailure, EventInbox
from tidings.events.tables import Event
from tidings.jobs.worker import drain

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def event_body(email: str | None = "ada@example.com", **attrs) -> dict:
    profile = {"email": email} if email else {}
    profile.update(attrs.pop("profile", {}))
    return {
        "data": {
            "type": "event",
            "attributes": {
                "properties": attrs.pop("properties", {"Items": [{"SKU": "A"}], "Total": 42.5}),
                "metric": {
                    "data": {"type": "metric", "attributes": {"name": attrs.pop("metric", "Placed Order")}}
                },
                "profile": {"data": {"type": "profile", "attributes": profile}},
                **attrs,
            },
        }
    }


def events_of(db, account_id: str) -> list[Event]:
    with db.read() as session:
        return list(
            session.execute(
                select(Event).where(Event.account_id == account_id).order_by(Event.time)
            ).scalars()
        )


def test_sdk_create_event_is_accepted_then_applied(db, sdk, account: AccountKeys) -> None:
    body = event_body(
        time=(NOW - dt.timedelta(days=1)).isoformat(), value=42.5, value_currency="usd", unique_id="o-1"
    )
    assert sdk.Events.create_event(body) is None  # 202 with no body
    drain(db)
    (event,) = events_of(db, account.id)
    assert event.unique_id == "o-1" and event.value == 42.5 and event.value_currency == "USD"
    assert event.time == NOW - dt.timedelta(days=1)
    listed = sdk.Events.get_events(filter=f'equals(profile_id,"{event.profile_id}")')
    assert listed.data[0].attributes.event_properties["Total"] == 42.5
    sdk.Events.create_event(body)  # the same unique_id again: first one wins
    drain(db)
    assert len(events_of(db, account.id)) == 1


def test_events_without_time_get_the_receipt_time_and_one_per_second(db, sdk, account: AccountKeys) -> None:
    sdk.Events.create_event(event_body(metric="Viewed Product"))
    drain(db)
    (event,) = events_of(db, account.id)
    assert abs((event.time - dt.datetime.now(dt.UTC)).total_seconds()) < 5
    assert event.unique_id == str(int(event.time.timestamp()))


def test_sdk_bulk_create_events(db, sdk, account: AccountKeys) -> None:
    groups = [
        {
            "type": "event-bulk-create",
            "attributes": {
                "profile": {"data": {"type": "profile", "attributes": {"email": f"p{i}@example.com"}}},
                "events": {
                    "data": [
                        {
                            "type": "event",
                            "attributes": {
                                "properties": {"n": n},
                                "metric": {"data": {"type": "metric", "attributes": {"name": "Bulk"}}},
                                "unique_id": f"{i}-{n}",
                                "time": (NOW - dt.timedelta(minutes=n)).isoformat(),
                            },
                        }
                        for n in range(3)
                    ]
                },
            },
        }
        for i in range(4)
    ]
    body = {"data": {"type": "event-bulk-create-job", "attributes": {"events-bulk-create": {"data": groups}}}}
    assert sdk.Events.bulk_create_events(body) is None
    drain(db)
    events = events_of(db, account.id)
    assert len(events) == 12 and len({e.profile_id for e in events}) == 4


def test_backfill_is_recorded(db, client, account: AccountKeys) -> None:
    response = client.post("/api/events", json=event_body(backfill=True), headers=account.headers())
    assert response.status_code == 202 and response.content == b""
    drain(db)
    assert events_of(db, account.id)[0].backfill is True


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (event_body(properties=None), "/data/attributes/properties"),
        (event_body(time="1989-12-31T00:00:00+00:00"), "/data/attributes/time"),
        (event_body(time="9999-12-31T23:00:00-05:00"), "/data/attributes/time"),
        (event_body(time="0001-01-01T00:00:00+05:00"), "/data/attributes/time"),
        (event_body(time=(NOW + dt.timedelta(days=400)).isoformat()), "/data/attributes/time"),
        (event_body(time="yesterday"), "/data/attributes/time"),
        (event_body(email=None), "/data/attributes/profile/data/attributes"),
        (event_body(email="not-an-email"), "/data/attributes/profile/data/attributes/email"),
        (event_body(properties={f"p{i}": i for i in range(401)}), "/data/attributes/properties"),
        (event_body(properties={"big": "x" * (100 * 1024 + 1)}), "/data/attributes/properties/big"),
        (event_body(metric="x" * 200), "/data/attributes/metric/data/attributes/name"),
        (event_body(value="lots"), "/data/attributes/value"),
        (event_body(colour="red"), "/data/attributes/colour"),
    ],
)
def test_bad_events_are_400_with_a_pointer(
    db, client, account: AccountKeys, body: dict, pointer: str
) -> None:
    response = client.post("/api/events", json=body, headers=account.headers())
    assert response.status_code == 400, response.text
    assert pointer in [e["source"].get("pointer") for e in response.json()["errors"]]
    with db.read() as session:
        assert (
            session.execute(
                select(func.count()).select_from(EventInbox).where(EventInbox.account_id == account.id)
            ).scalar()
            == 0
        )


def test_bulk_reports_every_bad_event_with_its_index(client, account: AccountKeys) -> None:
    events = [
        {
            "type": "event",
            "attributes": {
                "properties": {},
                "metric": {"data": {"type": "metric", "attributes": {"name": "M"}}},
            },
        },
        {
            "type": "event",
            "attributes": {
                "properties": {},
                "time": "1980-01-01T00:00:00Z",
                "metric": {"data": {"type": "metric", "attributes": {"name": "M"}}},
            },
        },
        {
            "type": "event",
            "attributes": {
                "properties": {},
                "time": "1970-01-01T00:00:00Z",
                "metric": {"data": {"type": "metric", "attributes": {"name": "M"}}},
            },
        },
    ]
    group = {
        "type": "event-bulk-create",
        "attributes": {
            "profile": {"data": {"type": "profile", "attributes": {"email": "a@b.co"}}},
            "events": {"data": events},
        },
    }
    body = {
        "data": {
            "type": "event-bulk-create-job",
            "attributes": {"events-bulk-create": {"data": [group, group]}},
        }
    }
    response = client.post("/api/event-bulk-create-jobs", json=body, headers=account.headers())
    assert response.status_code == 400
    pointers = sorted(e["source"]["pointer"] for e in response.json()["errors"])
    base = "/data/attributes/events-bulk-create/data"
    assert pointers == sorted(
        f"{base}/{g}/attributes/events/data/{e}/attributes/time" for g in (0, 1) for e in (1, 2)
    )


def test_keys_on_the_wrong_side_are_refused(client, account: AccountKeys) -> None:
    public = {"Authorization": f"Klaviyo-API-Key {account.public_key}", "revision": "2026-10-15"}
    assert client.post("/api/events", json=event_body(), headers=public).status_code == 401
    private_on_client = client.post(
        f"/client/events?company_id={account.public_key}", json=event_body(), headers=account.headers()
    )
    assert private_on_client.status_code == 400
    assert (
        client.post(
            "/client/events?company_id=nope00", json=event_body(), headers={"revision": "2026-10-15"}
        ).status_code
        == 400
    )


def test_client_events_are_applied(db, client, account: AccountKeys) -> None:
    response = client.post(
        f"/client/events?company_id={account.public_key}",
        json=event_body(email="web@example.com", metric="Viewed Product"),
        headers={"revision": "2026-10-15"},
    )
    assert response.status_code == 202
    body = {
        "data": {
            "type": "event-bulk-create",
            "attributes": {
                "profile": {"data": {"type": "profile", "attributes": {"anonymous_id": "anon-1"}}},
                "events": {
                    "data": [
                        {
                            "type": "event",
                            "attributes": {
                                "properties": {"i": i},
                                "unique_id": str(i),
                                "metric": {
                                    "data": {"type": "metric", "attributes": {"name": "Active on Site"}}
                                },
                            },
                        }
                        for i in range(3)
                    ]
                },
            },
        }
    }
    assert (
        client.post(
            f"/client/event-bulk-create?company_id={account.public_key}",
            json=body,
            headers={"revision": "2026-10-15"},
        ).status_code
        == 202
    )
    drain(db)
    assert len(events_of(db, account.id)) == 4


def test_an_anonymous_visitor_who_identifies_becomes_that_person(db, client, account: AccountKeys) -> None:
    """Onsite identify: a visitor known only by `_kx` sends a client event with an email nobody
    has yet; the visitor's profile takes the email, and that person's later events land on it.
    (The email was ignored, and the person's next event started a second profile.) An
    identified profile still never takes another email from a public key."""
    from tidings.profiles.tables import Profile

    def browser(**profile: str) -> None:
        # Each event in a 100 ms slot of its own: a commit into a slot whose processing job has
        # already run is left to the periodic sweep, which drain() does not run.
        time.sleep(0.11)
        body = event_body(email=None, profile=profile, metric="Active on Site")
        response = client.post(
            f"/client/events?company_id={account.public_key}", json=body, headers={"revision": "2026-10-15"}
        )
        assert response.status_code == 202, response.text
        drain(db)

    browser(_kx="kx-2")
    browser(_kx="kx-2", email="carol@example.com")
    browser(email="carol@example.com")
    browser(_kx="kx-2", email="mallory@example.com")
    with db.read() as session:
        people = session.execute(select(Profile).where(Profile.account_id == account.id)).scalars().all()
    assert [p.email for p in people] == ["carol@example.com"]
    assert {e.profile_id for e in events_of(db, account.id)} == {people[0].id}


def test_events_follow_a_merge_made_later_in_the_same_batch(db, client, account: AccountKeys) -> None:
    """A server event creates an anonymous profile; a client event of the same batch then links
    that visitor to a known person, merging the new profile away: both events end on the person."""
    from tidings.profiles.tables import Profile

    known = client.post(
        "/api/profiles",
        json={"data": {"type": "profile", "attributes": {"email": "known@example.com"}}},
        headers=account.headers(),
    ).json()["data"]["id"]
    server = event_body(email=None, profile={"anonymous_id": "visitor-7"}, metric="Viewed Product")
    assert client.post("/api/events", json=server, headers=account.headers()).status_code == 202
    browser = event_body(
        email="known@example.com", profile={"anonymous_id": "visitor-7"}, metric="Active on Site"
    )
    response = client.post(
        f"/client/events?company_id={account.public_key}", json=browser, headers={"revision": "2026-10-15"}
    )
    assert response.status_code == 202
    drain(db)  # both inbox rows in one batch
    assert {event.profile_id for event in events_of(db, account.id)} == {known}
    with db.read() as session:
        ids = session.execute(select(Profile.id).where(Profile.account_id == account.id)).scalars().all()
    assert ids == [known]


def test_unknown_profile_id_becomes_a_dead_letter_and_the_rest_applies(
    db, client, account: AccountKeys
) -> None:
    bad = event_body(email=None)
    bad["data"]["attributes"]["profile"]["data"]["id"] = "01NOSUCHPROFILE000000000000"
    assert client.post("/api/events", json=bad, headers=account.headers()).status_code == 202
    assert (
        client.post("/api/events", json=event_body(unique_id="fine"), headers=account.headers()).status_code
        == 202
    )
    drain(db)
    assert [e.unique_id for e in events_of(db, account.id)] == ["fine"]
    with db.read() as session:
        (failure,) = session.execute(
            select(EventFailure).where(EventFailure.account_id == account.id)
        ).scalars()
    assert "does not exist" in failure.error
    assert json.loads(failure.payload)["events"][0]["metric"] == "Placed Order"


def test_a_poisoned_inbox_row_is_isolated(db, client, account: AccountKeys) -> None:
    writer = InboxWriter(db)
    writer.submit([InboxItem(account.id, "event", "{not json", NOW)]).result(10)
    writer.stop()
    client.post("/api/events", json=event_body(unique_id="after"), headers=account.headers())
    drain(db)
    assert [e.unique_id for e in events_of(db, account.id)] == ["after"]
    with db.read() as session:
        failures = (
            session.execute(select(EventFailure).where(EventFailure.account_id == account.id)).scalars().all()
        )
        pending = (
            session.execute(select(EventInbox).where(EventInbox.account_id == account.id)).scalars().all()
        )
    assert len(failures) == 1 and pending == []


def test_concurrent_submissions_share_commits(db, account: AccountKeys) -> None:
    writer = InboxWriter(db)
    barrier = threading.Barrier(40)
    results = []

    def submit(n: int) -> None:
        barrier.wait()
        results.append(writer.submit([InboxItem(account.id, "event", "{}", NOW)]).result(10))

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.stop()
    assert len(results) == 40 and writer.rows == 40
    assert writer.commits < 40
    with db.write() as session:
        session.execute(EventInbox.__table__.delete().where(EventInbox.account_id == account.id))


def test_a_batch_is_bounded_by_payload_size_and_the_rest_follows(db, account: AccountKeys) -> None:
    from tidings.events.ingest import processor

    body = json.dumps({"source": "api", "received": NOW.isoformat(), "groups": []})
    _accept(db, account.id, [body] * 5)
    with db.write() as session:
        rows, more = processor.claim(session, account.id, 10, budget=len(body) * 2)
        assert len(rows) == 2 and more
        rows, more = processor.claim(session, account.id, 10, budget=1)
        assert len(rows) == 1 and more  # never stuck on one big row
        rows, more = processor.claim(session, account.id, 2)
        assert len(rows) == 2 and more  # as many as asked for: there may be more
        rows, more = processor.claim(session, account.id, 10)
        assert rows == [] and not more  # claimed rows are taken (deleted in this transaction)
        session.rollback()  # a rollback gives them back
    with db.write() as session:
        rows, more = processor.claim(session, account.id, 10)
        assert len(rows) == 5 and not more
        session.rollback()
    drain(db)  # the processing jobs chain until the inbox is empty
    with db.read() as session:
        assert session.execute(select(EventInbox).where(EventInbox.account_id == account.id)).first() is None


@pytest.mark.skipif(backend() != "postgres", reason="concurrent claims: PostgreSQL row locks")
def test_concurrent_batches_each_claim_their_own_rows(db, account: AccountKeys) -> None:
    """A batch locks only the rows it takes, so a second worker finds the rest (a batch of a few
    big bulk rows once locked the whole backlog, and processing ran one batch at a time)."""
    from tidings.events.ingest import processor

    body = json.dumps({"source": "api", "received": NOW.isoformat(), "groups": []})
    _accept(db, account.id, [body] * 10)
    try:
        with db.write() as first:
            mine, more = processor.claim(first, account.id, 100, budget=len(body) * 3)
            assert len(mine) == 3 and more
            with db.write() as second:  # the first batch is still open
                theirs, more = processor.claim(second, account.id, 100, budget=len(body) * 3)
                assert len(theirs) == 3 and more
                assert not {row.id for row in mine} & {row.id for row in theirs}
                second.rollback()
            first.rollback()
    finally:
        _empty_inbox(db, account.id)


@pytest.mark.skipif(backend() != "postgres", reason="concurrent claims: PostgreSQL row locks")
def test_a_batch_of_mixed_sizes_locks_only_what_it_takes(db, account: AccountKeys) -> None:
    """One small row, then big ones: the claim's second pass, sized by the small row, must not
    keep the big rows it cannot take locked away from the other workers."""
    from tidings.events.ingest import processor

    small = json.dumps({"source": "api", "received": NOW.isoformat(), "groups": []})
    big = json.dumps({"source": "api", "received": NOW.isoformat(), "groups": [], "pad": "x" * 20_000})
    _accept(db, account.id, [small])
    _accept(db, account.id, [big] * 10)  # a later commit: after the small row
    try:
        with db.write() as first:
            mine, more = processor.claim(first, account.id, 100, budget=len(big) * 3)
            assert len(mine) == 3 and more  # the small row and two big ones
            with db.write() as second:
                theirs, more = processor.claim(second, account.id, 100, budget=len(big) * 3)
                assert len(theirs) == 3 and more
                second.rollback()
            first.rollback()
    finally:
        _empty_inbox(db, account.id)


def _accept(db, account_id: str, payloads: list[str]) -> None:
    """Put payloads in the account's inbox, in one commit, as the endpoints do."""
    writer = InboxWriter(db)
    writer.submit([InboxItem(account_id, "event", payload, NOW) for payload in payloads]).result(10)
    writer.stop()


def _empty_inbox(db, account_id: str) -> None:
    with db.write() as session:
        session.execute(EventInbox.__table__.delete().where(EventInbox.account_id == account_id))


X = "__literal__"


@pytest.mark.parametrize(
    ("literal", "body", "pointer"),
    [
        ("NaN", event_body(value=X), "/data/attributes/value"),
        ('"Infinity"', event_body(value=X), "/data/attributes/value"),
        ("1e400", event_body(value=X), "/data/attributes/value"),
        ("NaN", event_body(properties={"Total": X}), "/data/attributes/properties/Total"),
        (
            "-Infinity",
            event_body(properties={"Items": [{"Price": X}]}),
            "/data/attributes/properties/Items/0/Price",
        ),
        (
            "1e999",
            event_body(profile={"properties": {"Score": X}}),
            "/data/attributes/profile/data/attributes/properties/Score",
        ),
    ],
)
def test_numbers_that_are_not_json_are_400(
    db, client, account: AccountKeys, literal: str, body: dict, pointer: str
) -> None:
    # Python's JSON parser takes NaN, Infinity and 1e400; accepted, they made every later
    # GET /api/events of the account a 500 (and a report a dropped connection).
    raw = json.dumps(body).replace(f'"{X}"', literal).encode()
    for path in ("/api/events", f"/client/events?company_id={account.public_key}"):
        headers = account.headers() if path.startswith("/api") else {"revision": "2026-07-15"}
        response = client.post(
            path, content=raw, headers={**headers, "Content-Type": "application/vnd.api+json"}
        )
        assert response.status_code == 400, response.text
        assert pointer in [e["source"].get("pointer") for e in response.json()["errors"]]
    drain(db)
    assert events_of(db, account.id) == []


def bulk_event(**attributes):  # type: ignore[no-untyped-def]
    """One event of a bulk group (`metric=None` leaves the metric out)."""
    attrs = {"properties": {}, "metric": {"data": {"type": "metric", "attributes": {"name": "M"}}}}
    attrs.update(attributes)
    return {"type": "event", "attributes": {k: v for k, v in attrs.items() if v is not None}}


def bulk_group(email: str, *events):  # type: ignore[no-untyped-def]
    profile = {"data": {"type": "profile", "attributes": {"email": email}}}
    return {"type": "event-bulk-create", "attributes": {"profile": profile, "events": {"data": list(events)}}}


def bulk_document(*groups):  # type: ignore[no-untyped-def]
    return {
        "data": {
            "type": "event-bulk-create-job",
            "attributes": {"events-bulk-create": {"data": list(groups)}},
        }
    }


MIXED_BULK = bulk_document(
    # a structural error (no metric) beside a limit error (time before 1990)
    bulk_group("a@b.co", bulk_event(metric=None), bulk_event(time="1980-01-01T00:00:00Z")),
    bulk_group("not-an-email", bulk_event(properties={str(i): i for i in range(401)})),
)


def test_bulk_reports_structural_and_limit_errors_together(client, account: AccountKeys) -> None:
    """Every problem of the request at once, not only those the models find first."""
    response = client.post("/api/event-bulk-create-jobs", json=MIXED_BULK, headers=account.headers())
    assert response.status_code == 400
    base = "/data/attributes/events-bulk-create/data"
    assert sorted(e["source"]["pointer"] for e in response.json()["errors"]) == [
        f"{base}/0/attributes/events/data/0/attributes/metric",
        f"{base}/0/attributes/events/data/1/attributes/time",
        f"{base}/1/attributes/events/data/0/attributes/properties",
        f"{base}/1/attributes/profile/data/attributes/email",
    ]
    client_body = {"data": MIXED_BULK["data"]["attributes"]["events-bulk-create"]["data"][0]}
    response = client.post(
        f"/client/event-bulk-create?company_id={account.public_key}",
        json=client_body,
        headers={"revision": "2026-10-15"},
    )
    assert sorted(e["source"]["pointer"] for e in response.json()["errors"]) == [
        "/data/attributes/events/data/0/attributes/metric",
        "/data/attributes/events/data/1/attributes/time",
    ]
