"""List endpoints through the official SDK: CRUD, membership, joined_group_at, join events."""

from __future__ import annotations

import uuid

import pytest
from openapi_client.exceptions import ApiException, NotFoundException
from sqlalchemy import select

from tidings.db.session import Database
from tidings.events.tables import Event, Metric
from tidings.lists.service import JOIN_METRIC


def _profile(sdk, **attributes):  # type: ignore[no-untyped-def]
    attributes.setdefault("email", f"l-{uuid.uuid4().hex[:10]}@example.com")
    return sdk.Profiles.create_profile({"data": {"type": "profile", "attributes": attributes}}).data


def _list(sdk, name: str = "Newsletter", **attributes):  # type: ignore[no-untyped-def]
    body = {"data": {"type": "list", "attributes": {"name": name, **attributes}}}
    return sdk.Lists.create_list(body).data


def _members(sdk, list_id: str, **kwargs) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.id for p in sdk.Lists.get_profiles_for_list(list_id, **kwargs).data]


def test_crud_and_filters(sdk) -> None:
    name = f"Acceptance list {uuid.uuid4().hex[:6]}"
    created = _list(sdk, name, opt_in_process="single_opt_in")
    assert created.attributes.name == name and created.attributes.opt_in_process == "single_opt_in"
    default = _list(sdk, "Defaults")
    assert default.attributes.opt_in_process == "double_opt_in"

    found = sdk.Lists.get_lists(filter=f'equals(name,"{name}")').data
    assert [x.id for x in found] == [created.id]
    fetched = sdk.Lists.get_list(created.id, additional_fields_list=["profile_count"]).data
    assert fetched.attributes.profile_count == 0

    body = {"data": {"type": "list", "id": created.id, "attributes": {"name": "Renamed"}}}
    updated = sdk.Lists.update_list(created.id, body).data
    assert updated.attributes.name == "Renamed" and updated.attributes.opt_in_process == "single_opt_in"

    assert sdk.Lists.delete_list(created.id) is None
    with pytest.raises(NotFoundException):
        sdk.Lists.get_list(created.id)


def test_membership_does_not_change_consent(sdk) -> None:
    group = _list(sdk)
    first, second = _profile(sdk), _profile(sdk)
    body = {"data": [{"type": "profile", "id": first.id}, {"type": "profile", "id": second.id}]}
    assert sdk.Lists.add_profiles_to_list(group.id, body) is None
    assert sorted(_members(sdk, group.id)) == sorted([first.id, second.id])
    assert (
        sdk.Lists.get_list(group.id, additional_fields_list=["profile_count"]).data.attributes.profile_count
        == 2
    )

    marketing = sdk.Profiles.get_profile(
        first.id, additional_fields_profile=["subscriptions"]
    ).data.attributes.subscriptions.email.marketing
    assert marketing.consent == "NEVER_SUBSCRIBED"

    assert [x.id for x in sdk.Profiles.get_lists_for_profile(first.id).data] == [group.id]
    assert [x.id for x in sdk.Profiles.get_list_ids_for_profile(first.id).data] == [group.id]

    one = {"data": [{"type": "profile", "id": first.id}]}
    assert sdk.Lists.remove_profiles_from_list(group.id, one) is None
    assert _members(sdk, group.id) == [second.id]
    assert [p.id for p in sdk.Lists.get_profile_ids_for_list(group.id).data] == [second.id]
    assert sdk.Profiles.get_lists_for_profile(first.id).data == []


def test_joined_group_at_filter_and_sort(sdk) -> None:
    group = _list(sdk)
    profiles = [_profile(sdk) for _ in range(3)]
    for p in profiles:
        sdk.Lists.add_profiles_to_list(group.id, {"data": [{"type": "profile", "id": p.id}]})
    ordered = _members(sdk, group.id, sort="joined_group_at")
    assert sorted(ordered) == sorted(p.id for p in profiles)
    assert _members(sdk, group.id, sort="-joined_group_at") == list(reversed(ordered))
    assert _members(sdk, group.id, filter="greater-than(joined_group_at,2100-01-01T00:00:00Z)") == []
    assert len(_members(sdk, group.id, filter="less-than(joined_group_at,2100-01-01T00:00:00Z)")) == 3
    email = profiles[0].attributes.email
    assert _members(sdk, group.id, filter=f'equals(email,"{email}")') == [profiles[0].id]
    page = sdk.Lists.get_profiles_for_list(group.id, page_size=2)
    assert len(page.data) == 2 and page.links.next


def test_first_join_is_one_event(sdk, db: Database, account) -> None:  # type: ignore[no-untyped-def]
    group = _list(sdk)
    p = _profile(sdk)
    body = {"data": [{"type": "profile", "id": p.id}]}
    sdk.Lists.add_profiles_to_list(group.id, body)
    sdk.Lists.add_profiles_to_list(group.id, body)  # idempotent
    sdk.Lists.remove_profiles_from_list(group.id, body)
    sdk.Lists.add_profiles_to_list(group.id, body)  # re-added: no second join event
    assert _members(sdk, group.id) == [p.id]
    with db.read() as session:
        joins = session.execute(
            select(Event.properties)
            .join(Metric, (Metric.account_id == Event.account_id) & (Metric.id == Event.metric_id))
            .where(Event.account_id == account.id, Event.profile_id == p.id, Metric.name == JOIN_METRIC)
        ).all()
    assert [row[0]["list_id"] for row in joins] == [group.id]


def test_bad_input(sdk, client, account) -> None:  # type: ignore[no-untyped-def]
    group = _list(sdk)
    with pytest.raises(ApiException) as caught:
        sdk.Lists.add_profiles_to_list(group.id, {"data": [{"type": "profile", "id": "nope"}]})
    assert caught.value.status == 400
    too_many = {"data": [{"type": "profile", "id": f"p{i}"} for i in range(1001)]}
    with pytest.raises(ApiException) as caught:
        sdk.Lists.add_profiles_to_list(group.id, too_many)
    assert caught.value.status in (400, 413)
    with pytest.raises(NotFoundException):
        sdk.Lists.add_profiles_to_list("nosuch", {"data": []})
    bad = {"data": {"type": "list", "attributes": {"name": "x", "opt_in_process": "maybe"}}}
    response = client.post("/api/lists", json=bad, headers=account.headers())
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"] == "/data/attributes/opt_in_process"
