"""Events written with one account's key never touch another account's profiles."""

from __future__ import annotations

from sqlalchemy import select

from tests.events.ingest.test_api import event_body
from tidings.events.ingest.tables import EventFailure
from tidings.events.tables import Event
from tidings.jobs.worker import drain


def test_another_accounts_profile_id_is_a_dead_letter(db, client, account, other_account, sdk) -> None:
    profile = sdk.Profiles.create_profile(
        {"data": {"type": "profile", "attributes": {"email": "a-only@example.com"}}}
    )
    body = event_body(email=None)
    body["data"]["attributes"]["profile"]["data"]["id"] = profile.data.id
    assert client.post("/api/events", json=body, headers=other_account.headers()).status_code == 202
    drain(db)
    with db.read() as session:
        assert session.execute(select(Event).where(Event.profile_id == profile.data.id)).first() is None
        (failure,) = session.execute(
            select(EventFailure).where(EventFailure.account_id == other_account.id)
        ).scalars()
    assert "does not exist" in failure.error


def test_same_email_in_two_accounts_is_two_profiles(db, client, account, other_account) -> None:
    for keys in (account, other_account):
        assert (
            client.post(
                "/api/events", json=event_body(email="shared@example.com"), headers=keys.headers()
            ).status_code
            == 202
        )
    drain(db)
    with db.read() as session:
        rows = session.execute(
            select(Event.account_id, Event.profile_id).where(
                Event.account_id.in_([account.id, other_account.id])
            )
        ).all()
    assert len({r.profile_id for r in rows}) == 2 and {r.account_id for r in rows} == {
        account.id,
        other_account.id,
    }
