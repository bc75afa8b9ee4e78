"""Query parameters checked against the spec's per-operation lists."""

from __future__ import annotations

import pytest

from tidings.jsonapi.errors import InvalidInput
from tidings.jsonapi.pagination import Cursor, encode_cursor
from tidings.jsonapi.params import parse_query
from tidings.jsonapi.spec import operation

PROFILES = operation("get_profiles")


def test_defaults_come_from_the_spec() -> None:
    params = parse_query(PROFILES, {})
    assert params.page_size == 20
    assert operation("get_events").page_default == 200
    assert operation("get_events").page_max == 1000
    assert operation("get_lists").page_max == 10


def test_valid_parameters() -> None:
    params = parse_query(
        PROFILES,
        {
            "filter": "equals(email,'a@b.co')",
            "sort": "-created",
            "page[size]": "100",
            "fields[profile]": "email,location.city",
            "additional-fields[profile]": "subscriptions,predictive_analytics",
            "include": "push-tokens",
        },
    )
    assert params.sort_field == "created" and params.descending
    assert params.page_size == 100
    assert params.fields == {"profile": ["email", "location.city"]}
    assert params.additional_fields == {"profile": ["subscriptions", "predictive_analytics"]}
    assert params.include == ["push-tokens"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"sort": "first_name"}, "sort"),
        ({"sort": "created,email"}, "sort"),
        ({"page[size]": "0"}, "page[size]"),
        ({"page[size]": "101"}, "page[size]"),
        ({"page[size]": "ten"}, "page[size]"),
        ({"page[size]": "9" * 5000}, "page[size]"),  # past int()'s 4,300 digits
        ({"page[size]": "0" * 5000 + "20"}, "page[size]"),
        ({"page[size]": "²"}, "page[size]"),  # a digit to str.isdigit, not to int()
        ({"filter": "equals(id," + "9" * 5000 + ")"}, "filter"),
        ({"filter": "any(id,[['a']])"}, "filter"),
        ({"fields[profile]": "nonsense"}, "fields[profile]"),
        ({"fields[nothing]": "x"}, "fields[nothing]"),
        ({"additional-fields[profile]": "everything"}, "additional-fields[profile]"),
        ({"include": "lists"}, "include"),
        ({"filter": "equals(first_name,'x')"}, "filter"),
        ({"filter": "contains(email,'x')"}, "filter"),
        ({"page[cursor]": "not-a-cursor"}, "page[cursor]"),
    ],
)
def test_invalid_parameters_point_at_the_parameter(query: dict[str, str], parameter: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_query(PROFILES, query)
    assert info.value.parameter == parameter


def test_cursor_carries_filter_sort_and_size() -> None:
    token = encode_cursor(
        Cursor("get_profiles", "next", ("x", "01A"), "-created", "equals(email,'a@b.co')", 7)
    )
    params = parse_query(PROFILES, {"page[cursor]": token})
    assert (params.sort, params.page_size, params.filter_text) == ("-created", 7, "equals(email,'a@b.co')")
    with pytest.raises(InvalidInput):
        parse_query(PROFILES, {"page[cursor]": token, "sort": "created"})
