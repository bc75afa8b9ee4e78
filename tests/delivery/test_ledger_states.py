"""The send ledger as a state machine, against a simple model, on simulated time.

Random steps: plan (keys repeat), claim, the provider's answer for a held row (taken, a
retryable refusal, a permanent one, a crash after it took the message, a worker that vanishes
before calling it), a held row's worker that comes back late, the clock moving past leases,
the janitor, cancel. The real service runs on the real database; the fake provider keeps
every message it took.

Invariants, after every step:
- one row per key;
- a row cancelled before any claim is never delivered, and a cancelled row is never claimed;
- every email delivered more than once was delivered with byte-identical content and the same
  Message-ID, and its extra deliveries are counted (`resends`);
- an SMS or push is never delivered twice; an ambiguous one ends `unknown`;
- after the janitor, no row is `sending` past its lease; a `sent` row was delivered;
- an outcome is accepted only from the row's latest claim (the lease token fences the others);
- each row is rendered at most once;
- at the end, once the live workers finish and the janitor runs, nothing is planned or
  sending: every row is sent, failed, cancelled, or (SMS, push, an email out of attempts)
  unknown; none is silently lost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from tests.conftest import make_account
from tests.delivery.fakes import CountingRenderer, FakeProvider, plan_send
from tidings.db.base import set_clock
from tidings.db.session import Database
from tidings.delivery import service
from tidings.delivery.provider import PermanentSendError, RetryableSendError
from tidings.delivery.service import LeaseLost
from tidings.delivery.tables import Channel, MessageSend, SendStatus

LEASE = 60.0
# Few keys, so plans repeat them: two emails, an SMS, a push.
KEYS = [("k0", Channel.EMAIL), ("k1", Channel.EMAIL), ("k2", Channel.SMS), ("k3", Channel.PUSH)]
FATES = ["taken", "retryable", "permanent", "crash_after", "vanish_before", "stall"]


@dataclass
class World:
    db: Database
    account_id: str
    now: dt.datetime = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
    provider: FakeProvider = field(default_factory=FakeProvider)
    render: CountingRenderer = field(default_factory=CountingRenderer)


class Ledger(RuleBasedStateMachine):
    db: Database

    def __init__(self) -> None:
        super().__init__()
        self.world = World(self.db, make_account(self.db).id)
        set_clock(lambda: self.world.now)
        self.held: list[service.Claim] = []  # claims whose worker has not answered yet
        self.stalled: list[service.Claim] = []  # workers inside the provider call, for a long time
        self.cancelled: dict[str, int] = {}  # send id -> its attempts when it was cancelled
        self.never_claimed_when_cancelled: set[str] = set()
        self.latest: dict[str, str] = {}  # send id -> the token of its latest claim

    def teardown(self) -> None:
        try:
            self.drain()
        finally:
            set_clock(None)

    def drain(self) -> None:
        """Let every worker that is still alive finish and the janitor run until nothing is
        planned or sending: no row is silently lost. (Stalled workers never come back.)"""
        for _ in range(3 * service.MAX_ATTEMPTS):
            self.world.now += dt.timedelta(hours=2)  # past every lease and every backoff
            for held in self.held:
                self.settle(held, "taken")
            self.held = []
            self.janitor()
            self.claim(100)
            if not self.held and not any(
                row.status in (SendStatus.PLANNED, SendStatus.SENDING) for row in self.rows()
            ):
                break
        self.the_ledger_keeps_its_promises()
        for row in self.rows():
            if row.status == SendStatus.UNKNOWN:
                # Assumed sent: SMS and push, or an email out of attempts.
                assert row.channel != Channel.EMAIL or row.attempts >= service.MAX_ATTEMPTS
            else:
                assert row.status in (SendStatus.SENT, SendStatus.FAILED, SendStatus.CANCELLED), row.status

    # Helpers
    def rows(self) -> list[MessageSend]:
        with self.db.read() as session:
            query = select(MessageSend).where(MessageSend.account_id == self.world.account_id)
            return list(session.execute(query).scalars())

    def settle(self, held: service.Claim, fate: str) -> None:
        provider = self.world.provider
        if fate == "vanish_before":
            return
        if fate == "retryable":
            provider.fail_with.append(RetryableSendError("451 try later"))
        elif fate == "permanent":
            provider.fail_with.append(PermanentSendError("550 refused"))
        try:
            ref = provider.send(held.message)
        except (RetryableSendError, PermanentSendError) as error:
            failure = error
            self.record(lambda session: service.record_failed(session, held, failure), held)
            return
        if fate == "crash_after":
            return  # the provider took it; the worker dies before recording
        self.record(lambda session: service.record_sent(session, held, ref), held)

    def record(self, outcome, held: service.Claim) -> None:  # type: ignore[no-untyped-def]
        try:
            with self.db.write() as session:
                outcome(session)
            assert self.latest[held.send_id] == held.token, "an outcome from a worker that lost the row"
        except LeaseLost:
            # Refused only when the claim no longer holds the row.
            with self.db.read() as session:
                row = service.get(session, held.account_id, held.send_id)
            assert row is not None and row.lease_token != held.token

    # Rules
    @rule(key=st.sampled_from(KEYS), later=st.booleans())
    def plan(self, key: tuple[str, Channel], later: bool) -> None:
        name, channel = key
        planned_for = self.world.now + dt.timedelta(seconds=30) if later else None
        with self.db.write() as session:
            plan_send(
                session,
                self.world.account_id,
                source=service.ApiSource(name),
                channel=channel,
                profile_id="P",
                planned_for=planned_for,
            )

    @rule(limit=st.integers(1, 3))
    def claim(self, limit: int) -> None:
        with self.db.write() as session:
            claims = service.claim(
                session, self.world.account_id, self.world.render, limit=limit, lease_seconds=LEASE
            )
        self.held.extend(claims)  # committed: now the provider may be called
        self.latest.update((c.send_id, c.token) for c in claims)

    @precondition(lambda self: self.held)
    @rule(data=st.data(), fate=st.sampled_from(FATES))
    def answer(self, data: st.DataObject, fate: str) -> None:
        held = self.held.pop(data.draw(st.integers(0, len(self.held) - 1)))
        if fate == "stall":
            self.stalled.append(held)
        else:
            self.settle(held, fate)

    @precondition(lambda self: self.stalled)
    @rule(data=st.data())
    def late_worker(self, data: st.DataObject) -> None:
        """A stalled worker's provider call returns at last; it records, or is refused."""
        self.settle(self.stalled.pop(data.draw(st.integers(0, len(self.stalled) - 1))), "taken")

    @rule(seconds=st.sampled_from([1, 45, LEASE + 1]))
    def time_passes(self, seconds: float) -> None:
        self.world.now += dt.timedelta(seconds=seconds)

    @rule()
    def janitor(self) -> None:
        with self.db.write() as session:
            service.janitor(session)
        for row in self.rows():
            assert not (row.status == SendStatus.SENDING and row.claimed_until < self.world.now), row.id  # type: ignore[operator]

    @rule(key=st.sampled_from(KEYS))
    def cancel(self, key: tuple[str, Channel]) -> None:
        with self.db.read() as session:
            row = service.by_key(session, self.world.account_id, f"a:{key[0]}")
        if row is None:
            return
        with self.db.write() as session:
            count = service.cancel(session, self.world.account_id, send_ids=[row.id])
        assert count == (1 if row.status == SendStatus.PLANNED else 0)
        if count:
            self.cancelled[row.id] = row.attempts
            if row.attempts == 0:
                self.never_claimed_when_cancelled.add(row.id)

    # Invariants
    @invariant()
    def the_ledger_keeps_its_promises(self) -> None:
        rows = self.rows()
        keys = [row.idempotency_key for row in rows]
        assert len(keys) == len(set(keys)), "one row per key"
        assert len(self.world.render.calls) == len(set(self.world.render.calls)), "rendered once"
        for row in rows:
            delivered = self.world.provider.deliveries(row.id)
            if row.id in self.cancelled:
                assert row.status == SendStatus.CANCELLED
                # Never claimed again. (A worker that claimed it before, and stalled inside the
                # provider call past its lease, may still deliver: that attempt was ambiguous.)
                assert row.attempts == self.cancelled[row.id], "claimed after its cancel"
                if row.id in self.never_claimed_when_cancelled:
                    assert delivered == []
            if row.channel == Channel.EMAIL:
                assert len({(m.content, m.message_id, m.content_sha256) for m in delivered}) <= 1
                assert all(m.message_id == row.message_id for m in delivered)
                assert len(delivered) - 1 <= row.resends, "an uncounted duplicate"
            else:
                assert len(delivered) <= 1, f"{row.channel} delivered twice"
                assert row.resends == 0
            if row.status == SendStatus.SENT:
                assert delivered and row.provider_ref
            if row.status in (SendStatus.SENDING, SendStatus.UNKNOWN) or delivered:
                assert row.content is not None


def test_the_ledger_as_a_state_machine(db: Database) -> None:
    Ledger.db = db
    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=30,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_an_ambiguous_sms_ends_unknown(db: Database) -> None:
    """The shape the machine above explores, written out once: a crash after the provider
    took an SMS, then the janitor."""
    Ledger.db = db
    machine = Ledger()
    try:
        machine.plan(KEYS[2], False)
        machine.claim(1)
        machine.settle(machine.held.pop(), "crash_after")
        machine.time_passes(LEASE + 1)
        machine.janitor()
        machine.the_ledger_keeps_its_promises()
        (row,) = machine.rows()
        assert row.status == SendStatus.UNKNOWN
        assert len(machine.world.provider.deliveries(row.id)) == 1
    finally:
        machine.teardown()
