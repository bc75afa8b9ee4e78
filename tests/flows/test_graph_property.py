"""The definition validator accepts exactly the action graphs that are complete (no dangling
link, an entry that exists), fully connected (every action reachable from the entry) and
acyclic, checked against a brute force on random graphs."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.flows import validation
from tidings.flows.definition import parse
from tidings.jsonapi.errors import ErrorList

FILTER = {
    "condition_groups": [
        {"conditions": [{"type": "profile-region", "in_region": True, "region": "united_states"}]}
    ]
}


@st.composite
def graphs(draw: Any) -> tuple[list[str], dict[str, list[str | None]], str | None, list[str]]:
    n = draw(st.integers(0, 7))
    keys = [f"a{i}" for i in range(n)]
    target = st.one_of(st.none(), st.sampled_from(keys) if keys else st.none(), st.just("ghost"))
    kinds = []
    edges: dict[str, list[str | None]] = {}
    for key in keys:
        kind = draw(st.sampled_from(["linear", "boolean", "branches"]))
        kinds.append(kind)
        count = {"linear": 1, "boolean": 2}.get(kind) or draw(st.integers(1, 3))
        edges[key] = [draw(target) for _ in range(count)]
    entry = draw(st.one_of(st.sampled_from(keys), st.none(), st.just("ghost")) if keys else st.none())
    return keys, edges, entry, kinds


def _action(key: str, kind: str, targets: list[str | None]) -> dict[str, Any]:
    if kind == "linear":
        data = {"unit": "hours", "value": 1}
        return {"temporary_id": key, "type": "time-delay", "links": {"next": targets[0]}, "data": data}
    if kind == "boolean":
        links = {"next_if_true": targets[0], "next_if_false": targets[1]}
        return {
            "temporary_id": key,
            "type": "conditional-split",
            "links": links,
            "data": {"profile_filter": FILTER},
        }
    branches = [
        {"branch_id": f"b{i}", "branch_filter": FILTER, "links": {"next": t}} for i, t in enumerate(targets)
    ]
    return {"temporary_id": key, "type": "multi-branch-split", "data": {"name": "n", "branches": branches}}


def brute_force(keys: list[str], edges: dict[str, list[str | None]], entry: str | None) -> bool:
    known = set(keys)
    if any(t is not None and t not in known for ts in edges.values() for t in ts):
        return False
    if not keys:
        return entry is None
    if entry not in known:
        return False
    reached = {entry}
    while True:
        more = {t for k in reached for t in edges[k] if t is not None} - reached
        if not more:
            break
        reached |= more
    if reached != known:
        return False
    # Kahn: acyclic iff peeling nodes without incoming links empties the graph.
    remaining = set(keys)
    while remaining:
        targets = {t for k in remaining for t in edges[k] if t is not None}
        free = remaining - targets
        if not free:
            return False
        remaining -= free
    return True


@settings(max_examples=400, deadline=None)
@given(graphs())
def test_the_validator_accepts_exactly_complete_connected_acyclic_graphs(graph: Any) -> None:
    keys, edges, entry, kinds = graph
    raw = {
        "triggers": [],
        "entry_action_id": entry,
        "actions": [_action(k, kind, edges[k]) for k, kind in zip(keys, kinds, strict=True)],
    }
    definition = parse(raw, "/d")
    try:
        validation.validate(None, "acct00", definition, "/d")  # type: ignore[arg-type] # names nothing in the account
        accepted = True
    except ErrorList as exc:
        accepted = False
        assert all(e.status == 400 and (e.pointer or "").startswith("/d/") for e in exc.errors)
    assert accepted == brute_force(keys, edges, entry)
