"""`tidings jobs`: the dead jobs, with their last errors, and retrying one."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import make_account
from tidings.cli import app
from tidings.config import get_settings
from tidings.jobs import queue
from tidings.jobs.tables import QUEUED, Job
from tidings.jobs.worker import drain


@pytest.fixture
def run(monkeypatch, database_url, db):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TIDINGS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_dead_jobs_are_listed_with_their_error_and_can_be_retried(run, db) -> None:  # type: ignore[no-untyped-def]
    account = make_account(db)
    with db.write() as session:
        job_id = queue.enqueue(session, "tests.nobody_handles_this", account_id=account.id, max_attempts=1)
    drain(db)
    listed = run("jobs", "list", "--account", account.id)
    assert listed.exit_code == 0, listed.output
    assert job_id in listed.output and "tests.nobody_handles_this" in listed.output
    assert "attempt 1/1" in listed.output and "no handler registered" in listed.output
    assert "No queued jobs." in run("jobs", "list", "--account", account.id, "--status", "queued").output

    retried = run("jobs", "retry", job_id, "--account", account.id)
    assert retried.exit_code == 0, retried.output
    with db.read() as session:
        row = session.execute(select(Job).where(Job.id == job_id)).scalar_one()
    assert (row.status, row.attempts) == (QUEUED, 0)
    assert run("jobs", "retry", job_id, "--account", account.id).exit_code == 1  # not dead any more
    with db.write() as session:
        session.execute(Job.__table__.delete().where(Job.id == job_id))


def test_worker_refuses_an_unknown_lane(run) -> None:  # type: ignore[no-untyped-def]
    result = run("worker", "--lane", "netwrok")
    assert result.exit_code == 1 and "Unknown lane 'netwrok'" in result.output
