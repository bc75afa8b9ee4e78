"""One input object given several times in a batch resolves as copies of it would.

The event processor passes one `ProfileInput` for identical profile blocks of a batch, and
identity resolution skips working through a repeated one when that cannot change anything.
Replayed with shared objects and with copies, on random batches of blocks drawn from a small
pool (identifiers of people that may contradict each other, attributes, properties, patch
properties with `append`), the resolutions and the resulting profiles are the same.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import make_account
from tidings.profiles.attributes import PatchProperties, ProfileAttributes
from tidings.profiles.identity import ProfileInput, Source, resolve_batch
from tidings.profiles.tables import Profile, ProfileAlias

IDENTIFIERS = [
    {"email": "a@example.com"},
    {"email": "b@example.com"},
    {"external_id": "x1", "email": "a@example.com"},
    {"external_id": "x2", "email": "a@example.com"},  # contradicts the one above
    {"external_id": "x2", "email": "b@example.com"},
    {"phone_number": "+16175550001", "anonymous_id": "anon-1"},
    {"anonymous_id": "anon-1", "email": "b@example.com"},
    {"kx": "kx-1"},
    {"kx": "kx-1", "email": "a@example.com"},
]
ATTRIBUTES: list[dict[str, Any]] = [
    {},
    {"first_name": "Ada"},
    {"first_name": "Grace", "properties": {"tier": "gold"}},
    {"properties": {"tier": "silver", "n": 1}},
]
PATCHES: list[dict[str, Any] | None] = [
    None,
    {"append": {"tags": "x"}},
    {"unappend": {"tags": "x"}},
    {"unset": ["tier"]},
]


def make_input(block: tuple[int, int, int]) -> ProfileInput:
    ids, attrs, patch = block
    return ProfileInput(
        **IDENTIFIERS[ids],
        attributes=ProfileAttributes.from_dict(copy.deepcopy(ATTRIBUTES[attrs])),
        patch_properties=PatchProperties.from_meta(copy.deepcopy(PATCHES[patch])),
    )


blocks = st.tuples(
    st.integers(0, len(IDENTIFIERS) - 1),
    st.integers(0, len(ATTRIBUTES) - 1),
    st.integers(0, len(PATCHES) - 1),
)


def replay(db, batches: list[list[tuple[int, int, int]]], source: Source, *, shared: bool):  # type: ignore[no-untyped-def]
    account = make_account(db)
    outcomes = []
    for batch in batches:
        made: dict[tuple[int, int, int], ProfileInput] = {}
        inputs = []
        for block in batch:
            if shared:
                inputs.append(made.setdefault(block, make_input(block)))
            else:
                inputs.append(make_input(block))
        with db.write() as session:
            results = resolve_batch(session, account.id, inputs, source=source)
            names = _profiles(session, account.id)
        outcomes += [
            (names.get(r.profile_id or ""), r.created, r.ok, sorted(r.ignored), r.error, len(r.merged_from))
            for r in results
        ]
    with db.read() as session:
        return outcomes, sorted(_profiles(session, account.id).values(), key=repr)


def _profiles(session, account_id: str) -> dict[str, tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    """Each profile as its identifiers and attributes (ids differ between the two replays)."""
    aliases: dict[str, list[tuple[str, str]]] = {}
    for alias in session.execute(select(ProfileAlias).where(ProfileAlias.account_id == account_id)).scalars():
        aliases.setdefault(alias.profile_id, []).append((alias.kind, alias.value))
    out = {}
    for p in session.execute(select(Profile).where(Profile.account_id == account_id)).scalars():
        out[p.id] = (
            p.email,
            p.external_id,
            p.phone_number,
            tuple(sorted(aliases.get(p.id, []))),
            p.first_name,
            sorted((p.properties or {}).items(), key=repr),
        )
    return out


@st.composite
def scenarios(draw: st.DrawFn) -> list[list[tuple[int, int, int]]]:
    """Batches drawn from a few blocks, so that blocks repeat within a batch."""
    pool = draw(st.lists(blocks, min_size=1, max_size=4))
    return draw(st.lists(st.lists(st.sampled_from(pool), min_size=1, max_size=10), min_size=1, max_size=3))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=scenarios(), source=st.sampled_from([Source.EVENT, Source.CLIENT]))
def test_a_shared_input_resolves_as_its_copies(db, batches, source) -> None:
    assert replay(db, batches, source, shared=True) == replay(db, batches, source, shared=False)
