"""Concurrent identity resolution: one profile per person, no lost writes, no needless waits."""

from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import func, select, text

from tests.conftest import backend, make_account
from tidings.profiles import identity
from tidings.profiles.attributes import ProfileAttributes
from tidings.profiles.identity import ProfileInput, Source, resolve_batch
from tidings.profiles.tables import Profile


def test_concurrent_batches_with_overlapping_identifiers(db) -> None:
    account = make_account(db)
    people = [(f"c{i}@example.com", f"+1617555{2000 + i:04d}") for i in range(60)]
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(4):
                chosen = rng.sample(people, 40)
                inputs = []
                for email, phone in chosen:
                    kind = rng.randrange(3)
                    inputs.append(
                        ProfileInput(email=email)
                        if kind == 0
                        else ProfileInput(phone_number=phone)
                        if kind == 1
                        else ProfileInput(email=email, phone_number=phone)
                    )
                with db.write() as session:
                    resolve_batch(session, account.id, inputs, source=Source.EVENT)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    # Link every person once more, then each person is exactly one profile.
    with db.write() as session:
        resolve_batch(
            session,
            account.id,
            [ProfileInput(email=e, phone_number=p) for e, p in people],
            source=Source.EVENT,
        )
    with db.read() as session:
        count = session.execute(
            select(func.count()).select_from(Profile).where(Profile.account_id == account.id)
        ).scalar()
        emails = session.execute(
            select(func.count(Profile.email.distinct())).where(Profile.account_id == account.id)
        ).scalar()
    assert count == len(people) and emails == len(people)


# --------------------------------------------------------------------------- PostgreSQL row locks
# Identity resolution reads profiles without a lock and locks them after resolving, each only as
# strongly as the batch needs (identity._Batch.lock). These tests hold that to its promises.

postgres_only = pytest.mark.skipif(backend() != "postgres", reason="row locks: PostgreSQL only")


def _create(db, account_id: str, *inputs: ProfileInput) -> list[str]:
    with db.write() as session:
        return [r.profile_id for r in resolve_batch(session, account_id, list(inputs), source=Source.API)]


@postgres_only
def test_batches_that_only_name_a_profile_do_not_wait_for_each_other(db) -> None:
    account = make_account(db)
    (pid,) = _create(db, account.id, ProfileInput(email="shared@example.com"))
    with db.write() as first:
        (held,) = resolve_batch(
            first, account.id, [ProfileInput(email="shared@example.com")], source=Source.EVENT
        )
        with db.write() as second:  # the first transaction is still open
            second.execute(text("SET LOCAL lock_timeout = '300ms'"))
            (other,) = resolve_batch(
                second, account.id, [ProfileInput(email="shared@example.com")], source=Source.EVENT
            )
    assert held.profile_id == other.profile_id == pid


@postgres_only
def test_a_profile_merged_away_between_reading_and_locking_is_resolved_again(db, monkeypatch) -> None:
    account = make_account(db)
    (older,) = _create(db, account.id, ProfileInput(phone_number="+16175550199"))
    (newer,) = _create(db, account.id, ProfileInput(email="merged@example.com"))

    def merge_meanwhile() -> None:
        # Another worker links the email to the phone: `newer` merges into the older profile.
        with db.write() as other:
            other.execute(text("SET LOCAL lock_timeout = '300ms'"))  # fail, not hang, if it must wait
            (linked,) = resolve_batch(
                other,
                account.id,
                [ProfileInput(email="merged@example.com", phone_number="+16175550199")],
                source=Source.EVENT,
            )
        assert linked.profile_id == older and linked.merged_from == [newer]

    _before_lock(monkeypatch, merge_meanwhile)
    with db.write() as session:
        (result,) = resolve_batch(
            session, account.id, [ProfileInput(email="merged@example.com")], source=Source.EVENT
        )
    assert result.profile_id == older  # not the profile that no longer exists


@postgres_only
def test_concurrent_property_writes_to_one_profile_are_both_kept(db, monkeypatch) -> None:
    account = make_account(db)
    (pid,) = _create(db, account.id, ProfileInput(email="props@example.com"))

    def set_property(session, **properties) -> None:
        item = ProfileInput(email="props@example.com", attributes=ProfileAttributes(properties=properties))
        resolve_batch(session, account.id, [item], source=Source.EVENT)

    def write_meanwhile() -> None:
        with db.write() as other:
            other.execute(text("SET LOCAL lock_timeout = '300ms'"))
            set_property(other, size="M")

    _before_lock(monkeypatch, write_meanwhile)
    with db.write() as session:
        set_property(session, color="red")
    with db.read() as session:
        properties = session.execute(select(Profile.properties).where(Profile.id == pid)).scalar()
    assert properties == {"size": "M", "color": "red"}


def _before_lock(monkeypatch, action) -> None:
    """Run `action` (in its own transaction) once, after a batch has resolved and before it locks."""
    original = identity._Batch.lock
    pending = [action]

    def lock(batch: identity._Batch) -> None:
        if pending:
            pending.pop()()
        original(batch)

    monkeypatch.setattr(identity._Batch, "lock", lock)


@postgres_only
def test_events_for_a_profile_another_writer_holds_do_not_wait_and_its_last_event_date_follows(db) -> None:
    import datetime as dt

    from tidings.events.metrics import MetricKey
    from tidings.events.store import NewEvent, write_events
    from tidings.jobs.worker import drain

    account = make_account(db)
    (pid,) = _create(db, account.id, ProfileInput(email="busy@example.com"))
    when = dt.datetime(2026, 5, 2, 10, 0, tzinfo=dt.UTC)
    with db.write() as holder:  # a batch that is changing this profile right now
        holder.execute(select(Profile.id).where(Profile.id == pid).with_for_update(key_share=True)).all()
        with db.write() as session:
            session.execute(text("SET LOCAL lock_timeout = '300ms'"))  # fail, not wait
            write_events(session, account.id, [NewEvent(pid, MetricKey("Viewed"), when, unique_id="b")])
    drain(db)  # the holder has committed: the job raises what the events could not
    with db.read() as session:
        assert session.execute(select(Profile.last_event_date).where(Profile.id == pid)).scalar() == when
