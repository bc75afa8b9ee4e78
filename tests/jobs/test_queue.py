"""The durable job queue: transactional enqueue, retries, leases, exactly-once effects."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import select, update

from tests.conftest import make_account
from tidings.db.base import utcnow
from tidings.jobs import queue
from tidings.jobs.registry import HANDLERS, JobContext, job, register
from tidings.jobs.tables import DEAD, DONE, QUEUED, RUNNING, Job
from tidings.jobs.worker import Worker, drain

CALLS: list[dict] = []
NEVER = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)  # effects are recorded as jobs nobody runs


@job("tests.record")
def _record(session, context: JobContext) -> None:
    CALLS.append({"account": context.account_id, **context.payload})


@job("tests.flaky")
def _flaky(session, context: JobContext) -> None:
    CALLS.append({"attempt": context.attempt})
    if context.payload.get("fail_until", 0) >= context.attempt:
        raise RuntimeError("not yet")


@job("tests.write_then_fail")
def _write_then_fail(session, context: JobContext) -> None:
    queue.enqueue(session, "tests.record", {"from": "handler"}, account_id=context.account_id)
    raise RuntimeError("rolled back with the handler")


@job("tests.slow")
def _slow(session, context: JobContext) -> None:
    CALLS.append({"slow": context.attempt})
    time.sleep(context.payload["seconds"])
    queue.enqueue(session, "tests.effect", {"of": context.id}, account_id=context.account_id, run_at=NEVER)


for _spec in (_record, _flaky, _write_then_fail, _slow):
    register(_spec)  # as the composition root registers the domains' jobs


@pytest.fixture(autouse=True)
def clean(db):
    CALLS.clear()
    with db.write() as session:
        session.execute(Job.__table__.delete().where(Job.name.like("tests.%")))
    yield


def _jobs(db, account_id: str) -> list[Job]:
    with db.read() as session:
        return list(session.execute(select(Job).where(Job.account_id == account_id)).scalars())


def test_enqueue_commits_with_the_change_or_not_at_all(db) -> None:
    account = make_account(db)
    with pytest.raises(RuntimeError), db.write() as session:
        queue.enqueue(session, "tests.record", {"n": 1}, account_id=account.id)
        raise RuntimeError("the change failed")
    assert _jobs(db, account.id) == []
    with db.write() as session:
        queue.enqueue(session, "tests.record", {"n": 2}, account_id=account.id)
    assert drain(db) >= 1
    assert [{"account": account.id, "n": 2}] == CALLS
    assert [j.status for j in _jobs(db, account.id)] == [DONE]


def test_dedup_key_makes_enqueue_idempotent(db) -> None:
    account = make_account(db)
    for _ in range(3):
        with db.write() as session:
            queue.enqueue(session, "tests.record", {"n": 1}, account_id=account.id, dedup_key="once")
    assert len(_jobs(db, account.id)) == 1


def test_failed_job_is_retried_with_backoff_then_succeeds(db) -> None:
    account = make_account(db)
    with db.write() as session:
        queue.enqueue(session, "tests.flaky", {"fail_until": 1}, account_id=account.id)
    drain(db)
    (failed,) = _jobs(db, account.id)
    assert failed.status == QUEUED and failed.attempts == 1
    assert failed.run_at > utcnow()
    assert "not yet" in (failed.last_error or "")
    with db.write() as session:  # time passes
        session.execute(update(Job).where(Job.account_id == account.id).values(run_at=utcnow()))
    drain(db)
    (done,) = _jobs(db, account.id)
    assert done.status == DONE and done.attempts == 2
    assert CALLS == [{"attempt": 1}, {"attempt": 2}]


def test_job_gives_up_after_max_attempts(db) -> None:
    account = make_account(db)
    with db.write() as session:
        queue.enqueue(session, "tests.flaky", {"fail_until": 99}, account_id=account.id, max_attempts=2)
    for _ in range(2):
        drain(db)
        with db.write() as session:
            session.execute(update(Job).where(Job.account_id == account.id).values(run_at=utcnow()))
    (gave_up,) = _jobs(db, account.id)
    assert gave_up.status == DEAD and gave_up.attempts == 2


def test_handler_writes_roll_back_when_it_fails(db) -> None:
    account = make_account(db)
    with db.write() as session:
        queue.enqueue(session, "tests.write_then_fail", account_id=account.id)
    drain(db)
    names = [j.name for j in _jobs(db, account.id)]
    assert names == ["tests.write_then_fail"]  # the job it enqueued went away with its failure


def test_job_of_a_dead_worker_is_claimed_again_after_its_lease(db) -> None:
    account = make_account(db)
    with db.write() as session:
        queue.enqueue(session, "tests.record", {"n": 1}, account_id=account.id)
    with db.write() as session:  # a worker claims it, then dies without finishing
        claimed = queue.claim(session, "dead-worker", limit=100, lease_seconds=60)
    assert any(j.account_id == account.id for j in claimed)
    assert drain(db) == 0 or CALLS == []  # still leased: nobody else runs it
    with db.write() as session:  # the lease runs out
        session.execute(
            update(Job)
            .where(Job.account_id == account.id)
            .values(locked_until=utcnow() - dt.timedelta(seconds=1))
        )
    drain(db)
    assert [{"account": account.id, "n": 1}] == CALLS
    (done,) = _jobs(db, account.id)
    assert done.status == DONE and done.attempts == 2


def _expire(db, account_id: str) -> None:  # type: ignore[no-untyped-def]
    with db.write() as session:
        session.execute(
            update(Job)
            .where(Job.account_id == account_id)
            .values(locked_until=utcnow() - dt.timedelta(seconds=1))
        )


def test_a_worker_that_lost_its_lease_cannot_settle_the_job(db) -> None:
    account = make_account(db)
    with db.write() as session:
        queue.enqueue(session, "tests.record", {"n": 1}, account_id=account.id)
    with db.write() as session:
        (first,) = [
            j for j in queue.claim(session, "w1", limit=100, lease_seconds=60) if j.account_id == account.id
        ]
        session.expunge_all()
    _expire(db, account.id)  # w1 stalls past its lease; w2 takes the job over
    with db.write() as session:
        (second,) = [
            j for j in queue.claim(session, "w2", limit=100, lease_seconds=60) if j.account_id == account.id
        ]
        session.expunge_all()
    assert second.attempts == 2 and second.lease_token != first.lease_token
    with pytest.raises(queue.LeaseLost), db.write() as session:
        queue.enqueue(session, "tests.effect", account_id=account.id)  # w1's effect goes with it
        queue.complete(session, first)
    with db.write() as session:
        assert queue.renew(session, first, 60) is False
        assert queue.fail(session, first, "w1's late error") is None
    (still,) = _jobs(db, account.id)
    assert still.status == RUNNING and still.locked_by == "w2" and still.last_error != "w1's late error"
    with db.write() as session:
        queue.complete(session, second)
    assert [(j.name, j.status) for j in _jobs(db, account.id)] == [("tests.record", DONE)]


def test_a_job_whose_lease_ran_out_on_its_last_attempt_is_dead_not_claimed_again(db) -> None:
    account = make_account(db)
    with db.write() as session:
        queue.enqueue(session, "tests.record", {"n": 1}, account_id=account.id, max_attempts=2)
    for attempt in (1, 2):  # each claim is an attempt; each time the worker vanishes
        with db.write() as session:
            claimed = queue.claim(session, f"vanishing-{attempt}", limit=100, lease_seconds=60)
        assert [j.attempts for j in claimed if j.account_id == account.id] == [attempt]
        _expire(db, account.id)
    drain(db)
    assert CALLS == []
    (dead,) = _jobs(db, account.id)
    assert (dead.status, dead.attempts, dead.lease_token) == (DEAD, 2, None)
    assert "attempt 2: the lease ran out" in (dead.last_error or "")
    with db.write() as session:  # `tidings jobs retry` gives it all its attempts again
        assert queue.retry(session, account.id, dead.id)
    drain(db)
    assert [{"account": account.id, "n": 1}] == CALLS


def test_periodic_jobs_are_enqueued_once_per_slot(db) -> None:
    now = utcnow()
    for _ in range(3):
        with db.write() as session:
            queue.enqueue_periodic(session, [("tests.record", 3600)], now)
    with db.read() as session:
        rows = session.execute(select(Job).where(Job.name == "tests.record")).scalars().all()
    assert len(rows) == 1


def test_unknown_job_name_fails_without_crashing_the_worker(db) -> None:
    account = make_account(db)
    with db.write() as session:
        queue.enqueue(session, "tests.nobody_handles_this", account_id=account.id, max_attempts=1)
    drain(db)
    (job_row,) = _jobs(db, account.id)
    assert job_row.status == DEAD and "no handler" in (job_row.last_error or "")


def test_concurrent_workers_run_each_job_once(db) -> None:
    account = make_account(db)
    with db.write() as session:
        for n in range(40):
            queue.enqueue(session, "tests.record", {"n": n}, account_id=account.id)
    workers = [Worker(db, index=i, batch=3) for i in range(4)]
    threads = [threading.Thread(target=lambda w=w: [w.run_once() for _ in range(30)]) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    drain(db)
    assert sorted(c["n"] for c in CALLS) == list(range(40))
    assert {j.status for j in _jobs(db, account.id)} == {DONE}


def test_in_process_worker_wakes_on_commit(db) -> None:
    account = make_account(db)
    worker = Worker(db, index=7)
    worker.settings = worker.settings.model_copy(update={"job_poll_interval": 30.0})
    worker.start()
    try:
        with db.write() as session:
            queue.enqueue(session, "tests.record", {"n": "wake"}, account_id=account.id)
        deadline = utcnow() + dt.timedelta(seconds=5)
        while not CALLS and utcnow() < deadline:
            threading.Event().wait(0.02)
    finally:
        worker.stop()
    assert [{"account": account.id, "n": "wake"}] == CALLS


def test_registry_refuses_two_handlers_with_one_name() -> None:
    with pytest.raises(ValueError):
        register(job("tests.record")(lambda session, context: None))
    assert "tests.record" in HANDLERS


def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def _workers(db, count: int, **settings) -> list[Worker]:  # type: ignore[no-untyped-def]
    workers = [Worker(db, index=90 + i) for i in range(count)]
    for worker in workers:
        worker.settings = worker.settings.model_copy(update={"job_poll_interval": 0.05, **settings})
    return workers


def test_a_job_longer_than_its_lease_finishes_once_while_another_worker_runs(db) -> None:
    """Issue 16: a job longer than its lease was taken over again and again and never finished."""
    account = make_account(db)
    with db.write() as session:
        queue.enqueue(session, "tests.slow", {"seconds": 2.5}, account_id=account.id, max_attempts=3)
    workers = _workers(db, 2, job_lease_seconds=1)
    for worker in workers:
        worker.start()
    try:
        slow = lambda: next(j for j in _jobs(db, account.id) if j.name == "tests.slow")  # noqa: E731
        _wait_for(lambda: slow().status in (DONE, DEAD), 8)
    finally:
        for worker in workers:
            worker.stop()
    assert (slow().status, slow().attempts) == (DONE, 1)
    assert CALLS == [{"slow": 1}]  # run once: its lease was renewed while it ran
    assert [j.name for j in _jobs(db, account.id)].count("tests.effect") == 1


def test_jobs_waiting_behind_a_long_one_in_a_batch_are_given_back(db) -> None:
    account = make_account(db)
    with db.write() as session:
        queue.enqueue(session, "tests.slow", {"seconds": 1.5}, account_id=account.id)
    with db.write() as session:
        for n in range(2):
            queue.enqueue(session, "tests.record", {"n": n}, account_id=account.id)
    first, second = _workers(db, 2, job_lease_seconds=1)
    first.batch = 3
    batch = threading.Thread(target=first.run_once)
    batch.start()
    try:
        _wait_for(lambda: {j.locked_by for j in _jobs(db, account.id)} == {first.name}, 5)
        second.start()
        _wait_for(lambda: sum(j.status == DONE for j in _jobs(db, account.id)) == 2, 5)
        by_name = {j.name: j for j in _jobs(db, account.id)}
        assert by_name["tests.slow"].status == RUNNING  # the others did not wait for it
    finally:
        batch.join()
        second.stop()
        first.stop()
    records = [j for j in _jobs(db, account.id) if j.name == "tests.record"]
    assert [(j.status, j.attempts, j.locked_by) for j in records] == [(DONE, 1, second.name)] * 2
    assert sorted(c["n"] for c in CALLS if "n" in c) == [0, 1]


def test_a_worker_takes_only_its_lane(db) -> None:
    account = make_account(db)
    with db.write() as session:
        queue.enqueue(session, "tests.record", {"n": "net"}, account_id=account.id, lane="network")
    assert Worker(db, lane="default").run_once() == 0 or CALLS == []
    (waiting,) = _jobs(db, account.id)
    assert (waiting.lane, waiting.status) == ("network", QUEUED)
    Worker(db, lane="network").run_once()
    assert [{"account": account.id, "n": "net"}] == CALLS


def test_a_running_worker_whose_job_was_taken_over_commits_nothing(db) -> None:
    account = make_account(db)
    with db.write() as session:
        queue.enqueue(session, "tests.slow", {"seconds": 1.5}, account_id=account.id)
    (worker,) = _workers(db, 1, job_lease_seconds=1)
    running = threading.Thread(target=worker.run_once)
    running.start()
    try:
        _wait_for(lambda: bool(CALLS), 5)
        with db.write() as session:  # it stalled past its lease and another worker claimed the job
            session.execute(
                update(Job).where(Job.account_id == account.id).values(locked_by="w2", lease_token="w2-token")
            )
    finally:
        running.join()
        worker.stop()
    (job_row,) = _jobs(db, account.id)  # its effect (an enqueued job) rolled back with it
    assert (job_row.status, job_row.locked_by, job_row.lease_token) == (RUNNING, "w2", "w2-token")
