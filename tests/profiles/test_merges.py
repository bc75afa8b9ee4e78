"""Merges, automatic and asked for, and undoing them."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import make_account
from tests.profiles.factories import add_events, make_profile, resolve, subscribe
from tidings.cli import app as cli
from tidings.config import get_settings
from tidings.consent.policy import Channel, Purpose, may_receive
from tidings.consent.tables import Subscription
from tidings.events.tables import Event
from tidings.profiles.attributes import ProfileAttributes
from tidings.profiles.identity import ProfileInput, Source
from tidings.profiles.tables import Profile


def _events(db, account_id: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[str]] = {}
    with db.read() as session:
        for event in session.execute(select(Event).where(Event.account_id == account_id)).scalars():
            out.setdefault(event.profile_id, []).append(event.properties["uid"])
    return {k: sorted(v) for k, v in out.items()}


def _profiles(db, account_id: str) -> dict[str, Profile]:  # type: ignore[no-untyped-def]
    with db.read() as session:
        return {
            p.id: p
            for p in session.execute(select(Profile).where(Profile.account_id == account_id)).scalars()
        }


def _unmerge(client, account, merge_id: str):  # type: ignore[no-untyped-def]
    body = {"data": {"type": "profile-unmerge", "attributes": {"merge_id": merge_id}}}
    return client.post("/api/x-tidings/profile-unmerges", json=body, headers=account.headers())


def test_an_action_linking_email_and_phone_merges_and_unmerge_restores(client, db, account) -> None:
    a = make_profile(db, account.id, email="ada@example.com", attributes=ProfileAttributes(first_name="Ada"))
    p = make_profile(
        db,
        account.id,
        phone_number="+16175550100",
        attributes=ProfileAttributes(first_name="Phone", last_name="Only", properties={"sms_only": True}),
    )
    add_events(db, account.id, a, "shared", "a1")
    add_events(db, account.id, p, "shared", "p1", "p2")
    subscribe(db, account.id, p, channel="sms")

    [result] = resolve(db, account.id, ProfileInput(email="ada@example.com", phone_number="+16175550100"))
    survivor = result.profile_id
    assert result.merged_from and survivor in (a, p)
    absorbed = p if survivor == a else a
    profiles = _profiles(db, account.id)
    assert set(profiles) == {survivor}
    merged = profiles[survivor]
    assert merged.email == "ada@example.com" and merged.phone_number == "+16175550100"
    assert merged.last_name == "Only" and merged.properties["sms_only"] is True
    events = _events(db, account.id)
    assert list(events) == [survivor]
    assert events[survivor] == ["a1", "p1", "p2", "shared"]  # the colliding event kept once
    with db.read() as session:
        assert may_receive(session, account.id, survivor, Channel.SMS, Purpose.MARKETING)

    log = client.get(
        "/api/x-tidings/profile-merges",
        params={"filter": f'equals(profile_id,"{survivor}")'},
        headers=account.headers(),
    ).json()["data"]
    assert len(log) == 1
    entry = log[0]
    assert entry["attributes"]["source_profile_id"] == absorbed
    assert entry["attributes"]["reason"] == "automatic"
    assert entry["attributes"]["moved"]["dropped_duplicate_events"] == 1

    response = _unmerge(client, account, entry["id"])
    assert response.status_code == 201, response.text
    assert response.json()["data"]["attributes"]["status"] == "unmerged"
    profiles = _profiles(db, account.id)
    assert set(profiles) == {a, p}
    assert profiles[a].email == "ada@example.com" and profiles[a].phone_number is None
    assert profiles[p].phone_number == "+16175550100" and profiles[p].email is None
    assert profiles[a].first_name == "Ada" and profiles[a].last_name is None
    assert "sms_only" not in profiles[a].properties and profiles[p].properties == {"sms_only": True}
    assert _events(db, account.id) == {a: ["a1", "shared"], p: ["p1", "p2", "shared"]}
    with db.read() as session:
        subs = (
            session.execute(select(Subscription).where(Subscription.account_id == account.id)).scalars().all()
        )
    assert [(s.profile_id, s.channel) for s in subs] == [(p, "sms")]
    assert _unmerge(client, account, entry["id"]).status_code == 409


def test_profiles_with_different_external_ids_never_merge(db, account) -> None:
    a = make_profile(db, account.id, external_id="X", email="x@example.com")
    b = make_profile(db, account.id, external_id="Y", phone_number="+16175550101")
    [result] = resolve(db, account.id, ProfileInput(email="x@example.com", phone_number="+16175550101"))
    assert result.profile_id == a and result.merged_from == []
    assert result.ignored == ["phone_number"]
    assert set(_profiles(db, account.id)) == {a, b}


def test_implicit_sources_fill_but_never_overwrite_identifiers(db, account) -> None:
    a = make_profile(db, account.id, email="fill@example.com", external_id="E1")
    [result] = resolve(db, account.id, ProfileInput(email="fill@example.com", phone_number="+16175550102"))
    assert result.profile_id == a and not result.ignored
    [result] = resolve(db, account.id, ProfileInput(email="fill@example.com", phone_number="+16175550103"))
    assert result.profile_id == a and result.ignored == ["phone_number"]
    [result] = resolve(db, account.id, ProfileInput(external_id="E1", email="other@example.com"))
    assert result.profile_id == a and result.ignored == ["email"]
    assert _profiles(db, account.id)[a].phone_number == "+16175550102"


def test_a_merge_past_the_property_limit_leaves_the_profile_writable(db, account) -> None:
    """A merge adds the properties the survivor lacks, past 400 if need be; later writes to the
    profile that add none still apply (they raised KeyError: every event for it was a dead letter)."""

    def props(prefix: str) -> ProfileAttributes:
        return ProfileAttributes.from_dict({"properties": {f"{prefix}{i}": i for i in range(300)}})

    kept = make_profile(db, account.id, email="wide@example.com", attributes=props("a"))
    make_profile(db, account.id, phone_number="+16175550104", attributes=props("b"))
    [merged] = resolve(db, account.id, ProfileInput(email="wide@example.com", phone_number="+16175550104"))
    assert merged.profile_id == kept and len(merged.merged_from) == 1
    assert len(_profiles(db, account.id)[kept].properties) == 600

    [bare] = resolve(db, account.id, ProfileInput(email="wide@example.com"))
    named = ProfileInput(
        email="wide@example.com", attributes=ProfileAttributes.from_dict({"first_name": "Wide"})
    )
    [renamed] = resolve(db, account.id, named)
    assert (bare.profile_id, bare.error, renamed.error) == (kept, None, None)
    assert _profiles(db, account.id)[kept].first_name == "Wide"
    more = ProfileInput(
        email="wide@example.com", attributes=ProfileAttributes.from_dict({"properties": {"c": 1}})
    )
    [refused] = resolve(db, account.id, more)
    assert refused.error is not None and "'c'" in refused.error


def test_client_writes_never_change_identifiers_but_absorb_anonymous_profiles(db, account) -> None:
    a = make_profile(db, account.id, email="web@example.com")
    make_profile(db, account.id, phone_number="+16175550104")
    [anon] = resolve(db, account.id, ProfileInput(anonymous_id="browser-1"), source=Source.CLIENT)
    assert anon.created
    [result] = resolve(
        db,
        account.id,
        ProfileInput(email="web@example.com", phone_number="+16175550105", anonymous_id="browser-1"),
        source=Source.CLIENT,
    )
    assert result.profile_id == a and result.merged_from == [anon.profile_id]
    assert result.ignored == ["phone_number"]
    [result] = resolve(
        db,
        account.id,
        ProfileInput(email="web@example.com", phone_number="+16175550104"),
        source=Source.CLIENT,
    )
    assert result.profile_id == a and result.merged_from == [] and result.ignored == ["phone_number"]
    [again] = resolve(db, account.id, ProfileInput(anonymous_id="browser-1"), source=Source.CLIENT)
    assert again.profile_id == a
    assert _profiles(db, account.id)[a].phone_number is None


def test_one_identifier_several_times_in_one_batch(db, account) -> None:
    results = resolve(
        db,
        account.id,
        ProfileInput(email="batch@example.com", attributes=ProfileAttributes(first_name="B")),
        ProfileInput(email="batch@example.com", phone_number="+16175550106"),
        ProfileInput(phone_number="+16175550106", attributes=ProfileAttributes(last_name="Z")),
        ProfileInput(phone_number="+16175550107"),
        ProfileInput(email="batch2@example.com", phone_number="+16175550107"),
    )
    assert results[0].profile_id == results[1].profile_id == results[2].profile_id
    assert results[3].profile_id == results[4].profile_id != results[0].profile_id
    assert [r.created for r in results] == [True, False, False, True, False]
    profiles = _profiles(db, account.id)
    assert len(profiles) == 2
    assert profiles[results[0].profile_id].last_name == "Z"


def test_merge_profiles_api_and_cli_unmerge(sdk, db, account, monkeypatch, database_url) -> None:
    dest = sdk.Profiles.create_profile(
        {"data": {"type": "profile", "attributes": {"email": "dest@example.com", "first_name": "D"}}}
    ).data.id
    src = sdk.Profiles.create_profile(
        {
            "data": {
                "type": "profile",
                "attributes": {
                    "email": "src@example.com",
                    "first_name": "S",
                    "title": "CEO",
                    "properties": {"k": 1},
                },
            }
        }
    ).data.id
    add_events(db, account.id, src, "s1")
    response = sdk.Profiles.merge_profiles(
        {
            "data": {
                "type": "profile-merge",
                "id": dest,
                "relationships": {"profiles": {"data": [{"type": "profile", "id": src}]}},
            }
        }
    )
    assert response.data.id == dest
    merged = sdk.Profiles.get_profile(dest).data.attributes
    assert merged.email == "dest@example.com" and merged.first_name == "D" and merged.title == "CEO"
    assert merged.properties == {"k": 1}
    assert _events(db, account.id) == {dest: ["s1"]}
    assert sdk.Profiles.get_profiles(filter='equals(email,"src@example.com")').data == []

    with db.read() as session:
        from tidings.profiles.tables import ProfileMerge

        merge_id = session.execute(
            select(ProfileMerge.id).where(ProfileMerge.account_id == account.id)
        ).scalar()
    monkeypatch.setenv("TIDINGS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["profiles", "unmerge", merge_id])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    restored = sdk.Profiles.get_profile(src).data.attributes
    assert restored.email == "src@example.com" and restored.title == "CEO"
    assert sdk.Profiles.get_profile(dest).data.attributes.title is None
    assert _events(db, account.id) == {src: ["s1"]}


@pytest.mark.parametrize("order", ["first-then-second", "second-first"])
def test_chained_merges_undo_in_reverse_order(client, db, order) -> None:
    account = make_account(db)
    a = make_profile(db, account.id, email="c1@example.com")
    b = make_profile(db, account.id, phone_number="+16175550108")
    c = make_profile(db, account.id, external_id="C")
    [r1] = resolve(db, account.id, ProfileInput(email="c1@example.com", phone_number="+16175550108"))
    [r2] = resolve(db, account.id, ProfileInput(external_id="C", email="c1@example.com"))
    assert r2.profile_id == r1.profile_id or r2.merged_from
    merges = client.get(
        "/api/x-tidings/profile-merges", params={"sort": "created"}, headers=account.headers()
    ).json()["data"]
    assert len(merges) == 2
    first, second = merges
    if order == "second-first":
        assert _unmerge(client, account, second["id"]).status_code == 201
        assert _unmerge(client, account, first["id"]).status_code == 201
        assert set(_profiles(db, account.id)) == {a, b, c}
    else:
        blocked = _unmerge(client, account, first["id"])
        if first["attributes"]["destination_profile_id"] == second["attributes"]["source_profile_id"]:
            assert blocked.status_code == 409
            assert second["id"] in blocked.json()["errors"][0]["detail"]
