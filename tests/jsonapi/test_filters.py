"""The filter grammar: what the SDK and hand-written clients send, and what must be refused."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.jsonapi.errors import InvalidInput
from tidings.jsonapi.filters import (
    Comparison,
    Has,
    Logical,
    Node,
    Not,
    check_whitelist,
    parse_filter,
)

UTC = dt.UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('equals(email,"a+b@c.co")', Comparison("equals", "email", "a+b@c.co")),
        ("equals(email,'a@b.co')", Comparison("equals", "email", "a@b.co")),
        ("any(external_id,['x','y'])", Comparison("any", "external_id", ["x", "y"])),
        ('any(id,["a", "b"])', Comparison("any", "id", ["a", "b"])),
        (
            "greater-than(created,2024-01-02T03:04:05+00:00)",
            Comparison("greater-than", "created", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ),
        (
            "less-than(updated,2024-01-02T03:04:05.678901Z)",
            Comparison("less-than", "updated", dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)),
        ),
        (  # naive: placed by the endpoint (UTC, or a report's timezone)
            "greater-or-equal(datetime,2024-01-02T03:04:05)",
            Comparison("greater-or-equal", "datetime", dt.datetime(2024, 1, 2, 3, 4, 5)),
        ),
        ("equals(timestamp,1704067200)", Comparison("equals", "timestamp", 1704067200)),
        ("equals(value,-1.5)", Comparison("equals", "value", -1.5)),
        ("equals(is_starred,true)", Comparison("equals", "is_starred", True)),
        ("equals(email,null)", Comparison("equals", "email", None)),
        ("has(profile)", Has("profile")),
        (
            'equals(name,"with \\"quote\\" and, comma)")',
            Comparison("equals", "name", 'with "quote" and, comma)'),
        ),
        ('equals(name,"List with space")', Comparison("equals", "name", "List with space")),
        (
            'equals(metric_id,"abc"),greater-than(datetime,2024-01-01T00:00:00Z)',
            Logical(
                "and",
                (
                    Comparison("equals", "metric_id", "abc"),
                    Comparison("greater-than", "datetime", dt.datetime(2024, 1, 1, tzinfo=UTC)),
                ),
            ),
        ),
        (
            "and(equals(a,1),or(equals(b,2),not(has(c))))",
            Logical(
                "and",
                (Comparison("equals", "a", 1), Logical("or", (Comparison("equals", "b", 2), Not(Has("c"))))),
            ),
        ),
        (" equals( email , 'x' ) ", Comparison("equals", "email", "x")),
    ],
)
def test_parses(text: str, expected: Node) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "equals",
        "equals(email)",
        'equals(email,"unterminated)',
        "equals(email,bare-word)",
        "frobnicate(email,'x')",
        "equals(email,'x'))",
        "equals(email,'x') trailing",
        "any(id,['a' 'b'])",
        "and(" * 20 + "has(a)" + ")" * 20,
        "any(id,[['a']])",  # no operator compares with a list of lists
        "any(id,['a',[]])",
        "equals(id," + "9" * 5000 + ")",  # past int()'s 4,300 digits
        "equals(id," + "9" * 65 + ")",
        "equals(id,1e400)",  # not a finite number
        "equals(id,١٢)",  # digits, but not ASCII ones
    ],
)
def test_malformed_filters_are_400_on_the_filter_parameter(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_filter(text)
    assert info.value.parameter == "filter"
    assert info.value.status == 400


def test_whitelist_refuses_unknown_fields_and_operators() -> None:
    allowed = {"email": ["any", "equals"], "created": ["greater-than", "less-than"]}
    check_whitelist(parse_filter("equals(email,'a'),greater-than(created,2024-01-01T00:00:00Z)"), allowed)
    with pytest.raises(InvalidInput, match="field 'phone'"):
        check_whitelist(parse_filter("equals(phone,'1')"), allowed)
    with pytest.raises(InvalidInput, match="operator 'contains'"):
        check_whitelist(parse_filter("contains(email,'a')"), allowed)
    with pytest.raises(InvalidInput, match="operator 'has'"):
        check_whitelist(parse_filter("has(email)"), allowed)


# Round trip: whatever tree we can write, we parse back to the same tree.
_fields = st.sampled_from(["email", "id", "properties.Plan", "created", "a_b"])
_scalars = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.integers(-(10**9), 10**9),
    st.booleans(),
    st.none(),
    st.datetimes(
        timezones=st.just(UTC), min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)
    ),
)


def _render_value(value: object, quote: str) -> str:
    if isinstance(value, list):
        return "[" + ",".join(_render_value(v, quote) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    escaped = str(value).replace("\\", "\\\\").replace(quote, "\\" + quote)
    return f"{quote}{escaped}{quote}"


def _render(node: Node, quote: str) -> str:
    if isinstance(node, Logical):
        return f"{node.op}(" + ",".join(_render(i, quote) for i in node.items) + ")"
    if isinstance(node, Not):
        return f"not({_render(node.item, quote)})"
    if isinstance(node, Has):
        return f"has({node.field})"
    return f"{node.op}({node.field},{_render_value(node.value, quote)})"


_leaves = st.one_of(
    st.builds(
        Comparison, st.sampled_from(["equals", "greater-than", "contains", "starts-with"]), _fields, _scalars
    ),
    st.builds(Comparison, st.just("any"), _fields, st.lists(_scalars, max_size=4)),
    st.builds(Has, _fields),
)
_trees = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.builds(
            Logical, st.sampled_from(["and", "or"]), st.lists(children, min_size=1, max_size=3).map(tuple)
        ),
        st.builds(Not, children),
    ),
    max_leaves=8,
)


@given(_trees, st.sampled_from(["'", '"']))
def test_render_then_parse_round_trips(tree: Node, quote: str) -> None:
    assert parse_filter(_render(tree, quote)) == tree
