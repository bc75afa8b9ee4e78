"""Migration 0009: segments built before the clock get a rebuild job, which computes their instants."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, insert, select
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_ADMIN, _psycopg_dsn, backend
from tidings.db.migrate import upgrade
from tidings.events.tables import Event, Metric
from tidings.jobs.tables import Job
from tidings.segments.tables import Segment


@pytest.fixture
def fresh_engine(tmp_path: Path) -> Iterator[Engine]:
    if backend() == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        engine.dispose()
        return
    import psycopg

    name = f"tidings_mig_{uuid.uuid4().hex[:12]}"
    admin = _psycopg_dsn(POSTGRES_ADMIN)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(make_url(POSTGRES_ADMIN).set(database=name))
    yield engine
    engine.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_existing_segments_are_rebuilt(fresh_engine: Engine) -> None:
    upgrade(fresh_engine, "0008_profile_imports")
    now = dt.datetime.now(dt.UTC)
    segment = {
        "name": "S",
        "definition": {"condition_groups": []},
        "is_starred": False,
        "is_processing": False,
    }
    with fresh_engine.begin() as conn:
        conn.execute(
            insert(Segment.__table__),  # type: ignore[arg-type]
            [
                {
                    **segment,
                    "account_id": "AAAAAA",
                    "id": "on",
                    "is_active": True,
                    "created": now,
                    "updated": now,
                },
                {
                    **segment,
                    "account_id": "AAAAAA",
                    "id": "off",
                    "is_active": False,
                    "created": now,
                    "updated": now,
                },
            ],
        )
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        jobs = conn.execute(select(Job.account_id, Job.name, Job.payload, Job.status)).all()
    assert [tuple(j) for j in jobs] == [("AAAAAA", "segments.build", {"segment_id": "on"}, "queued")]


def test_membership_events_leave_the_events_table(fresh_engine: Engine) -> None:
    """Migration 0020: the "Entered Segment" events of Tidings' own metric go, with the metric;
    the events integrations sent stay."""
    upgrade(fresh_engine, "0019_campaigns")
    now = dt.datetime.now(dt.UTC)
    metrics = [
        ("seg", "Entered Segment", "tidings"),
        ("ord", "Placed Order", "api"),
    ]
    with fresh_engine.begin() as conn:
        conn.execute(
            insert(Metric.__table__),  # type: ignore[arg-type]
            [
                {
                    "account_id": "AAAAAA",
                    "id": mid,
                    "name": name,
                    "integration_key": key,
                    "integration": {},
                    "created": now,
                    "updated": now,
                }
                for mid, name, key in metrics
            ],
        )
        conn.execute(
            insert(Event.__table__),  # type: ignore[arg-type]
            [
                {
                    "account_id": "AAAAAA",
                    "id": f"E{mid}",
                    "metric_id": mid,
                    "profile_id": "P",
                    "time": now,
                    "properties": {},
                    "unique_id": mid,
                    "backfill": False,
                    "source": "api",
                    "received": now,
                }
                for mid, _, _ in metrics
            ],
        )
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        assert list(conn.execute(select(Metric.id)).scalars()) == ["ord"]
        assert list(conn.execute(select(Event.id)).scalars()) == ["Eord"]
