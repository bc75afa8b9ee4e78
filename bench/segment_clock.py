"""Segment membership: a full build, the clock's tick and an incremental update, on PostgreSQL.

    TIDINGS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/tidings_bench_segment_clock \
        .venv/bin/python bench/segment_clock.py [--profiles 20000] [--events 200000]

1. A fresh database: one account, N profiles, E "Placed Order" events spread over 60 days.
2. A segment "at least 3 orders in the last 30 days", built with `membership.build` (the
   compiled query over every profile, the members, a `segment_changes` row and an
   "Entered Segment" event per entry, every profile's next-change instant), next to the plain
   `SELECT profile_id ... GROUP BY profile_id HAVING count(*) >= 3` that finds the same members.
3. The tick for the 2,000 earliest due (segment, profile) rows, and a tick with none due.
4. An incremental update of 500 profiles (every active segment, as after a batch of events).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text

from bench._common import fresh_database
from tidings import domains
from tidings.accounts import service as accounts
from tidings.accounts.schemas import AccountCreate
from tidings.config import Settings
from tidings.db.ids import ulid
from tidings.db.migrate import upgrade
from tidings.db.session import Database
from tidings.events.tables import Event, Metric
from tidings.ops.logs import configure_logging
from tidings.profiles.tables import Profile
from tidings.segments import clock, instants, membership, sql
from tidings.segments.definition import SegmentDefinition
from tidings.segments.tables import Segment

URL = os.environ.get(
    "TIDINGS_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/tidings_bench_segment_clock"
)
DEFINITION = {
    "condition_groups": [
        {
            "conditions": [
                {
                    "type": "profile-metric",
                    "metric_id": "MBENCH",
                    "measurement": "count",
                    "measurement_filter": {
                        "type": "numeric",
                        "operator": "greater-than-or-equal",
                        "value": 3,
                    },
                    "timeframe_filter": {
                        "type": "date",
                        "operator": "in-the-last",
                        "quantity": 30,
                        "unit": "day",
                    },
                }
            ]
        }
    ]
}


def load(db: Database, profiles: int, events: int, now: dt.datetime) -> tuple[str, list[str]]:
    with db.write() as session:
        account_id = accounts.create_account(session, AccountCreate(name="Bench")).id
        session.add(Metric(account_id=account_id, id="MBENCH", name="Placed Order", integration_key="api"))
    ids = [ulid() for _ in range(profiles)]
    with db.write() as session:
        session.execute(
            insert(Profile),
            [
                {"account_id": account_id, "id": p, "properties": {}, "created": now, "updated": now}
                for p in ids
            ],
        )
        rows = [
            {
                "account_id": account_id,
                "id": ulid(),
                "metric_id": "MBENCH",
                "profile_id": random.choice(ids),
                "time": now - dt.timedelta(seconds=random.randint(0, 60 * 86400)),
                "value": 10.0,
                "properties": {},
                "unique_id": str(n),
                "backfill": False,
                "source": "api",
                "received": now,
            }
            for n in range(events)
        ]
        session.execute(insert(Event), rows)
        session.add(
            Segment(
                account_id=account_id,
                id="SBENCH",
                name="Bench",
                definition=DEFINITION,
                is_active=True,
                is_starred=False,
                is_processing=False,
                created=now,
                updated=now,
            )
        )
    with db.write() as session:
        session.execute(text("ANALYZE"))
    return account_id, ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    fresh_database(URL).dispose()
    db = Database(Settings(database_url=URL, workers=0, log_level="WARNING"))
    upgrade(db.engine)
    domains.install()
    now = dt.datetime.now(dt.UTC)
    account_id, ids = load(db, args.profiles, args.events, now)

    with db.read() as session:
        started = time.perf_counter()
        plain = session.execute(
            text(
                "SELECT profile_id FROM events WHERE account_id = :a AND metric_id = 'MBENCH' AND time >= :t"
                " GROUP BY profile_id HAVING count(*) >= 3"
            ),
            {"a": account_id, "t": now - dt.timedelta(days=30)},
        ).all()
        baseline = time.perf_counter() - started
        ctx = sql.Context(session, account_id, now)
        parts = instants.parts(ctx, SegmentDefinition.model_validate(DEFINITION))
        started = time.perf_counter()
        instants.next_changes(session, parts, None, now)
        instant_time = time.perf_counter() - started
    with db.write() as session:
        started = time.perf_counter()
        membership.build(session, account_id, "SBENCH")
        build = time.perf_counter() - started
    with db.read() as session:
        due = sorted(clock.instants(session, account_id, "SBENCH").values())
    print(f"build: {len(plain)} members of {args.profiles} profiles, {args.events} events")
    print(f"  membership.build        {build:7.2f} s (of which instants alone {instant_time:.2f} s)")
    print(f"  plain GROUP BY query    {baseline:7.2f} s   ratio {build / baseline:.0f}x")
    later = due[min(1999, len(due) - 1)] + dt.timedelta(microseconds=1)
    with db.write() as session:
        started = time.perf_counter()
        membership.tick(session, later)
        print(f"tick, {min(2000, len(due))} rows due     {time.perf_counter() - started:7.2f} s")
    with db.write() as session:
        started = time.perf_counter()
        membership.tick(session, later)
        print(f"tick, nothing due       {1000 * (time.perf_counter() - started):7.1f} ms")
    with db.write() as session:
        started = time.perf_counter()
        membership.update_profiles(session, account_id, random.sample(ids, 500), "event")
        print(f"update of 500 profiles  {time.perf_counter() - started:7.2f} s")
    db.dispose()


if __name__ == "__main__":
    main()
