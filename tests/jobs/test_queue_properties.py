"""A property of the queue, on simulated time.

Workers claim jobs of random lengths, some longer than the lease; a worker renews its job's
lease every third of a lease, unless it crashes (it vanishes without a word; another worker
takes its place) or stalls (it stops renewing but goes on, and tries to commit late); a
handler may also raise. Whatever happens, every job ends either done, its effect committed
exactly once, or dead after its attempts with no effect committed; none runs forever.

The real queue functions run on the real database with a simulated clock (`set_clock`), and a
job is settled by the real `Worker.run_job`; only the passing of time and the heartbeat's
schedule are simulated, so an example takes a fraction of a second.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import itertools
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from tests.conftest import make_account
from tidings.db.base import set_clock, utcnow
from tidings.jobs import queue
from tidings.jobs.registry import JobContext, job, register
from tidings.jobs.tables import DEAD, DONE, QUEUED, RUNNING, Job
from tidings.jobs.worker import Worker

LANE = "tests.sim"  # only the simulation's workers claim these
EFFECTS = "tests.sim-effects"  # nobody claims these: each row is one committed effect
LEASE = 10.0
BEAT = LEASE / 3
LONGEST = 2000.0  # simulated seconds: far more than every attempt of every job needs
FATES: dict[tuple[str, int], str] = {}  # (job id, attempt) -> ok, error, crash or stall


@job("tests.sim_job")
def _sim_job(session, context: JobContext) -> None:  # type: ignore[no-untyped-def]
    if FATES.get((context.id, context.attempt)) == "error":
        raise RuntimeError("the handler failed")
    effect = {"of": context.id, "attempt": context.attempt}
    queue.enqueue(session, "tests.sim_effect", effect, account_id=context.account_id, lane=EFFECTS)


register(_sim_job)  # as the composition root registers the domains' jobs


@dataclasses.dataclass(frozen=True)
class Spec:
    duration: float  # simulated seconds a run of the job takes
    max_attempts: int
    fates: tuple[tuple[str, float], ...]  # per attempt (ok when missing): what happens, and when


specs = st.builds(
    Spec,
    duration=st.floats(0.5, 3 * LEASE),
    max_attempts=st.integers(1, 3),
    fates=st.lists(
        st.tuples(st.sampled_from(["ok", "error", "crash", "stall"]), st.floats(0.05, 0.95)), max_size=3
    ).map(tuple),
)


class Simulation:
    def __init__(self, db, account_id: str, specs: list[Spec], workers: int) -> None:  # type: ignore[no-untyped-def]
        self.db = db
        self.account_id = account_id
        self.now = utcnow()
        # (when, order, worker, what, the claim it is about): a step of a claim that is over
        # (its worker crashed, or finished it and went on) never happens.
        self.events: list[tuple[dt.datetime, int, int, str, str | None]] = []
        self.order = itertools.count()
        self.workers: dict[int, Worker] = {}
        self.holding: dict[int, Job] = {}  # worker -> the job it runs
        self.beating: set[int] = set()  # workers still renewing their job's lease
        self.ids = itertools.count()
        with db.write() as session:
            self.jobs = {
                queue.enqueue(
                    session,
                    "tests.sim_job",
                    {"n": n},
                    account_id=account_id,
                    max_attempts=spec.max_attempts,
                    lane=LANE,
                ): spec
                for n, spec in enumerate(specs)
            }
        for _ in range(workers):
            self.spawn()

    def at(self, seconds: float, worker: int, what: str) -> None:
        held = self.holding.get(worker)
        when = self.now + dt.timedelta(seconds=seconds)
        heapq.heappush(self.events, (when, next(self.order), worker, what, held and held.lease_token))

    def spawn(self) -> None:
        index = next(self.ids)
        worker = Worker(self.db, index=index, lane=LANE)
        self.workers[index] = worker
        self.at(0, index, "poll")

    def run(self) -> None:
        end = self.now + dt.timedelta(seconds=LONGEST)
        while self.events and self.now < end and not self.settled():
            self.now, _, index, what, claim = heapq.heappop(self.events)
            held = self.holding.get(index)
            if index in self.workers and claim == (held and held.lease_token):
                getattr(self, what)(index)

    def settled(self) -> bool:
        return all(row.status in (DONE, DEAD) for row in self.rows())

    def rows(self) -> list[Job]:
        with self.db.read() as session:
            return list(session.execute(select(Job).where(Job.lane == LANE)).scalars())

    def poll(self, index: int) -> None:
        worker = self.workers[index]
        with self.db.write() as session:
            claimed = queue.claim(session, worker.name, limit=1, lease_seconds=LEASE, lane=LANE)
            session.expunge_all()
        if not claimed:  # look again when something can next be due
            due = [r.run_at if r.status == QUEUED else r.locked_until for r in self.rows()]
            due = [d for d in due if d is not None and d > self.now]
            wait = (min(due) - self.now).total_seconds() + 0.001 if due else LEASE
            self.at(wait, index, "poll")
            return
        (held,) = claimed
        spec = self.jobs[held.id]
        fate, when = spec.fates[held.attempts - 1] if held.attempts <= len(spec.fates) else ("ok", 1.0)
        FATES[(held.id, held.attempts)] = fate
        self.holding[index] = held
        self.beating.add(index)
        self.at(BEAT, index, "beat")
        if fate == "crash":
            self.at(spec.duration * when, index, "crash")
            return
        if fate == "stall":
            self.at(spec.duration * when, index, "stall")
        self.at(spec.duration, index, "finish")

    def beat(self, index: int) -> None:
        if index not in self.beating:  # it stalled, or lost the lease
            return
        with self.db.write() as session:
            held = queue.renew(session, self.holding[index], LEASE)
        if held:
            self.at(BEAT, index, "beat")
        else:
            self.beating.discard(index)

    def stall(self, index: int) -> None:
        self.beating.discard(index)

    def crash(self, index: int) -> None:
        del self.workers[index], self.holding[index]
        self.beating.discard(index)
        self.spawn()

    def finish(self, index: int) -> None:
        self.beating.discard(index)
        self.workers[index].run_job(self.holding.pop(index))  # handler, then complete or fail
        self.at(0, index, "poll")


@pytest.fixture
def account_id(db) -> str:  # type: ignore[no-untyped-def]
    return make_account(db).id


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(specs, min_size=1, max_size=4), workers=st.integers(1, 3))
# Always tried, whatever the random ones: a job longer than two leases, renewed as it runs; a
# worker that stalls past its lease while another takes the job over, then tries to commit;
# a worker that vanishes on the job's last attempt.
@example(specs=[Spec(25.0, 1, ())], workers=2)
@example(specs=[Spec(17.0, 2, (("stall", 0.5),))], workers=2)
@example(specs=[Spec(1.0, 1, (("crash", 0.5),))], workers=1)
def test_every_job_is_done_once_or_dead_whatever_the_workers_do(db, account_id, specs, workers) -> None:  # type: ignore[no-untyped-def]
    with db.write() as session:
        session.execute(delete(Job).where(Job.lane.in_([LANE, EFFECTS])))
    simulation = Simulation(db, account_id, specs, workers)
    set_clock(lambda: simulation.now)
    try:
        with mock.patch.object(queue, "backoff_seconds", lambda attempt: 2.0**attempt):
            simulation.run()
        rows = {row.id: row for row in simulation.rows()}
        with db.read() as session:
            effects = [e.payload for e in session.execute(select(Job).where(Job.lane == EFFECTS)).scalars()]
    finally:
        set_clock(None)
        with db.write() as session:
            session.execute(delete(Job).where(Job.lane.in_([LANE, EFFECTS])))
    for job_id, spec in simulation.jobs.items():
        row = rows[job_id]
        assert row.status in (DONE, DEAD), f"still {row.status} after {LONGEST:g} simulated seconds"
        assert row.status != RUNNING and row.attempts <= row.max_attempts
        committed = [effect["attempt"] for effect in effects if effect["of"] == job_id]
        if row.status == DONE:  # once, by the attempt that held the lease when it finished
            assert committed == [row.attempts], spec
        else:  # dead after all its attempts, with why, and nothing committed
            assert committed == [] and row.attempts == row.max_attempts and row.last_error, spec
        if not spec.fates or spec.fates[0][0] == "ok":  # renewed while it ran: never taken over
            assert (row.status, row.attempts) == (DONE, 1), spec
