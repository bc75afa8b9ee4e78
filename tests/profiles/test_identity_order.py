"""Identity resolution does not depend on the order in which the same actions arrive.

People have disjoint identifiers (some have an external_id, an anonymous id, ...); each
action carries a random non-empty subset of one person's identifiers. Replayed through the
real service and database in two random orders and random batch splits, the final
partition of identifiers into profiles is the same, and it is the connected components of
"appeared in the same action". Events written for each action follow their profile
through the automatic merges.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import make_account
from tidings.events.metrics import MetricKey
from tidings.events.store import NewEvent, write_events
from tidings.events.tables import Event
from tidings.profiles.identity import ProfileInput, Source, resolve_batch
from tidings.profiles.tables import Profile, ProfileAlias

KINDS = ("external_id", "email", "phone_number", "anonymous_id", "kx")
Token = tuple[str, str]


def person_identifiers(index: int, present: frozenset[str]) -> dict[str, str]:
    values = {
        "external_id": f"ext-{index}",
        "email": f"person{index}@example.com",
        "phone_number": f"+1617555{index:04d}",
        "anonymous_id": f"anon-{index}",
        "kx": f"kx-{index}",
    }
    return {kind: values[kind] for kind in KINDS if kind in present}


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[dict[str, str]], list[int], list[int], list[int]]:
    people = [
        person_identifiers(i, frozenset(draw(st.sets(st.sampled_from(KINDS), min_size=1))))
        for i in range(draw(st.integers(1, 3)))
    ]
    actions = []
    for _ in range(draw(st.integers(1, 9))):
        person = draw(st.sampled_from(people))
        kinds = draw(st.sets(st.sampled_from(sorted(person)), min_size=1))
        actions.append({k: person[k] for k in kinds})
    order = draw(st.permutations(range(len(actions))))
    cuts_a = draw(st.lists(st.integers(1, 4), min_size=len(actions), max_size=len(actions)))
    cuts_b = draw(st.lists(st.integers(1, 4), min_size=len(actions), max_size=len(actions)))
    return actions, list(order), cuts_a, cuts_b


def expected_partition(actions: list[dict[str, str]]) -> set[frozenset[Token]]:
    parent: dict[Token, Token] = {}

    def find(x: Token) -> Token:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for action in actions:
        tokens = [(k, v) for k, v in action.items()]
        for token in tokens:
            find(token)
        for token in tokens[1:]:
            parent[find(token)] = find(tokens[0])
    groups: dict[Token, set[Token]] = {}
    for token in parent:
        groups.setdefault(find(token), set()).add(token)
    return {frozenset(g) for g in groups.values()}


def replay(db, actions: list[dict[str, str]], order: list[int], cuts: list[int]):  # type: ignore[no-untyped-def]
    account = make_account(db)
    sequence = [(n, actions[n]) for n in order]
    start = 0
    for size in cuts:
        chunk = sequence[start : start + size]
        if not chunk:
            break
        start += size
        with db.write() as session:
            results = resolve_batch(
                session, account.id, [ProfileInput(**action) for _n, action in chunk], source=Source.EVENT
            )
            events = [
                NewEvent(
                    r.profile_id,
                    MetricKey("Viewed Page"),
                    dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                    unique_id=str(n),
                )
                for (n, _action), r in zip(chunk, results, strict=True)
                if r.profile_id
            ]
            write_events(session, account.id, events)
    return partition_of(db, account.id)


def partition_of(db, account_id: str) -> tuple[set[frozenset[Token]], Counter[frozenset[Token]]]:  # type: ignore[no-untyped-def]
    groups: dict[str, set[Token]] = {}
    with db.read() as session:
        for profile in session.execute(select(Profile).where(Profile.account_id == account_id)).scalars():
            tokens = groups.setdefault(profile.id, set())
            for kind in ("external_id", "email", "phone_number"):
                if getattr(profile, kind):
                    tokens.add((kind, getattr(profile, kind)))
        for alias in session.execute(
            select(ProfileAlias).where(ProfileAlias.account_id == account_id)
        ).scalars():
            groups.setdefault(alias.profile_id, set()).add((alias.kind, alias.value))
        event_counts = Counter(
            session.execute(select(Event.profile_id).where(Event.account_id == account_id)).scalars()
        )
    partition = {frozenset(tokens) for tokens in groups.values()}
    by_group = Counter({frozenset(groups[pid]): count for pid, count in event_counts.items()})
    return partition, by_group


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
def test_partition_is_independent_of_order_and_batching(db, scenario) -> None:
    actions, order, cuts_a, cuts_b = scenario
    expected = expected_partition(actions)
    in_order, events_a = replay(db, actions, list(range(len(actions))), cuts_a)
    shuffled, events_b = replay(db, actions, order, cuts_b)
    assert in_order == expected
    assert shuffled == expected
    # Every action's event ends on the profile of its component.
    expected_events = Counter()
    for action in actions:
        group = next(g for g in expected if (next(iter(action.items()))) in g)
        expected_events[group] += 1
    assert events_a == expected_events
    assert events_b == expected_events
