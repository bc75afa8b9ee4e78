"""The durable job queue: transactional enqueue, retries, leases, exactly-once effects."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select, update

from tests.conftest import make_account
from tidings.db.base import utcnow
from tidings.jobs import queue
from tidings.jobs.registry import HANDLERS, JobContext, job, register
from tidings.jobs.tables import DONE, FAILED, QUEUED, RUNNING, Job
from tidings.jobs.worker import Worker, drain

CALLS: list[dict] = []


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


for _spec in (_record, _flaky, _write_then_fail):
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
    assert gave_up.status == FAILED and gave_up.attempts == 2


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


def test_completion_with_a_lost_lease_rolls_back(db) -> None:
    account = make_account(db)
    with db.write() as session:
        queue.enqueue(session, "tests.record", {"n": 1}, account_id=account.id)
    with db.write() as session:
        (claimed,) = [
            j for j in queue.claim(session, "w1", limit=100, lease_seconds=60) if j.account_id == account.id
        ]
        session.expunge_all()
    with db.write() as session:  # another worker took it over
        session.execute(update(Job).where(Job.account_id == account.id).values(locked_by="w2"))
    with db.write() as session:
        assert queue.complete(session, claimed, "w1") is False
    (still,) = _jobs(db, account.id)
    assert still.status == RUNNING and still.locked_by == "w2"


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
    assert job_row.status == FAILED and "no handler" in (job_row.last_error or "")


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
