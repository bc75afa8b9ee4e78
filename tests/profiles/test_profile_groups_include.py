"""get_profile with include=lists,segments: the profile's groups as relationships and included resources."""

from __future__ import annotations

from tidings.jobs.worker import drain


def test_get_profile_includes_its_lists_and_segments(sdk, db) -> None:  # type: ignore[no-untyped-def]
    member = sdk.Profiles.create_profile(
        {
            "data": {
                "type": "profile",
                "attributes": {"email": "in@example.com", "properties": {"Tier": "gold"}},
            }
        }
    ).data
    other = sdk.Profiles.create_profile(
        {
            "data": {
                "type": "profile",
                "attributes": {"email": "out@example.com", "properties": {"Tier": "tin"}},
            }
        }
    ).data
    group = sdk.Lists.create_list({"data": {"type": "list", "attributes": {"name": "Newsletter"}}}).data
    sdk.Lists.add_profiles_to_list(group.id, {"data": [{"type": "profile", "id": member.id}]})
    condition = {
        "type": "profile-property",
        "property": "properties['Tier']",
        "filter": {"type": "string", "operator": "equals", "value": "gold"},
    }
    segment = sdk.Segments.create_segment(
        {
            "data": {
                "type": "segment",
                "attributes": {
                    "name": "Gold",
                    "definition": {"condition_groups": [{"conditions": [condition]}]},
                },
            }
        }
    ).data
    drain(db)

    found = sdk.Profiles.get_profile(member.id, include=["lists", "segments"])
    assert [r.id for r in found.data.relationships.lists.data] == [group.id]
    assert [r.id for r in found.data.relationships.segments.data] == [segment.id]
    included = {(r["type"], r["id"]): r for r in found.included}  # the SDK hands included as dicts
    assert included[("list", group.id)]["attributes"]["name"] == "Newsletter"
    assert included[("segment", segment.id)]["attributes"]["name"] == "Gold"

    alone = sdk.Profiles.get_profile(other.id, include=["lists", "segments"])
    assert alone.data.relationships.lists.data == [] and alone.data.relationships.segments.data == []
    assert not alone.included
