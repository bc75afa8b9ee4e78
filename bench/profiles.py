"""Profile reads with 1,000,000 profiles, and identity resolution throughput, on PostgreSQL.

    TIDINGS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/tidings_bench \
        .venv/bin/python bench/profiles.py [--profiles 1000000] [--requests 2000]

1. Loads N profiles into one account (COPY; kept between runs).
2. get_profile and get_profiles?filter=equals(email,...) through the app in-process (the
   whole server path: auth, revision, params, query, rendering; no network), p50/p99,
   next to the plain `SELECT` of the same row on the same database.
3. resolve_batch: batches of 1,000 profile blocks (half known emails, half new), the
   event processor's shape, in profiles/s, next to a plain INSERT ... ON CONFLICT of the
   same rows.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tidings.accounts import service as accounts
from tidings.accounts.schemas import AccountCreate
from tidings.app import create_app
from tidings.config import Settings
from tidings.db.migrate import upgrade
from tidings.db.session import Database
from tidings.ops.logs import configure_logging
from tidings.profiles.identity import ProfileInput, Source, resolve_batch

URL = os.environ.get(
    "TIDINGS_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/tidings_bench"
)
ACCOUNT = "BnchP1"


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_database() -> None:
    url = make_url(URL)
    admin = dsn(url.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{url.database}"')


def email(n: int) -> str:
    return f"bench{n}@example.com"


def load_profiles(db: Database, count: int) -> str:
    """One account with `count` profiles (bench0..), loaded with COPY; returns a private key."""
    with db.write() as session:
        if session.execute(text("SELECT 1 FROM accounts WHERE id = :a"), {"a": ACCOUNT}).first() is None:
            account = accounts.create_account(session, AccountCreate(name="Bench"))
            session.execute(
                text("UPDATE accounts SET id = :a WHERE id = :old"), {"a": ACCOUNT, "old": account.id}
            )
        _key, raw = accounts.create_key(session, ACCOUNT)
        have = session.execute(
            text("SELECT count(*) FROM profiles WHERE account_id = :a"), {"a": ACCOUNT}
        ).scalar()
    if have and have >= count:
        return raw
    with psycopg.connect(dsn(URL)) as conn:
        conn.execute("DELETE FROM profiles WHERE account_id = %s", (ACCOUNT,))
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY profiles (account_id, id, email, first_name, properties, created, updated) FROM STDIN"
            ) as copy,
        ):
            buffer = io.StringIO()
            for n in range(count):
                buffer.write(
                    f"{ACCOUNT}\t{n:026d}\t{email(n)}\tName{n}\t"
                    f'{{"plan": "gold", "n": {n}}}\t2026-01-01 00:00:00+00\t2026-01-01 00:00:00+00\n'
                )
                if n % 50_000 == 49_999:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        conn.execute("ANALYZE profiles")
        conn.commit()
        print(f"loaded {count:,} profiles in {time.perf_counter() - started:.1f} s")
    return raw


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class ServerTimer:
    """Times each HTTP request inside the server: from the ASGI call to the last byte sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        await self.app(scope, receive, send)
        self.last = time.perf_counter() - started


def bench_reads(db: Database, key: str, count: int, requests: int) -> None:
    app = create_app(Settings(database_url=URL, rate_limits_enabled=False, workers=0), db=db, workers=0)
    timer = ServerTimer(app)
    headers = {"Authorization": f"Klaviyo-API-Key {key}", "revision": "2026-10-15"}
    step = max(1, count // requests)
    targets = [n * step for n in range(requests)]
    with TestClient(timer) as client:
        for n in targets[:50]:  # warm up
            client.get(f"/api/profiles/{n:026d}", headers=headers)
        results: dict[str, list[float]] = {"get_profile": [], "get_profiles?filter=equals(email,...)": []}
        for n in targets:
            response = client.get(f"/api/profiles/{n:026d}", headers=headers)
            results["get_profile"].append(timer.last)
            assert response.status_code == 200, response.text
            response = client.get(
                "/api/profiles", params={"filter": f'equals(email,"{email(n)}")'}, headers=headers
            )
            results["get_profiles?filter=equals(email,...)"].append(timer.last)
            assert len(response.json()["data"]) == 1
    plain: list[float] = []
    with psycopg.connect(dsn(URL)) as conn:
        for n in targets:
            started = time.perf_counter()
            conn.execute(
                "SELECT * FROM profiles WHERE account_id = %s AND email = %s", (ACCOUNT, email(n))
            ).fetchall()
            plain.append(time.perf_counter() - started)
    base = percentile(plain, 0.99) * 1000
    print(f"\nreads with {count:,} profiles, {requests} requests each (timed inside the server):")
    print(
        f"  {'plain SELECT by email':44s} p50 {statistics.median(plain) * 1000:6.2f} ms  p99 {base:6.2f} ms"
    )
    for name, samples in results.items():
        p99 = percentile(samples, 0.99) * 1000
        print(
            f"  {name:44s} p50 {statistics.median(samples) * 1000:6.2f} ms  p99 {p99:6.2f} ms"
            f"  ({p99 / base:.1f}x the plain SELECT)"
        )


def bench_resolution(db: Database, count: int, batches: int = 20, size: int = 1000) -> None:
    run = uuid.uuid4().hex[:6]
    total = batches * size
    started = time.perf_counter()
    for b in range(batches):
        inputs = []
        for i in range(size):
            n = b * size + i
            known = n % 2 == 0 and n < count
            address = email(n) if known else f"new-{run}-{n}@example.com"
            inputs.append(ProfileInput(email=address, phone_number=None))
        with db.write() as session:
            resolve_batch(session, ACCOUNT, inputs, source=Source.EVENT)
    elapsed = time.perf_counter() - started
    with psycopg.connect(dsn(URL)) as conn:
        conn.execute(
            "CREATE TEMP TABLE plain (account_id text, id text, email text, UNIQUE (account_id, email))"
        )
        started = time.perf_counter()
        for b in range(batches):
            rows = [(ACCOUNT, f"{b}-{i}", f"plain-{run}-{b * size + i}@example.com") for i in range(size)]
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO plain VALUES (%s, %s, %s) ON CONFLICT DO NOTHING", rows)
            conn.commit()
        plain = time.perf_counter() - started
    print(f"\nresolve_batch, {batches} batches of {size} (half known emails, half new):")
    print(f"  resolve_batch               {total / elapsed:10,.0f} profiles/s")
    print(f"  plain INSERT ON CONFLICT    {total / plain:10,.0f} rows/s  (ratio {plain / elapsed:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    ensure_database()
    db = Database(Settings(database_url=URL))
    upgrade(db.engine)
    key = load_profiles(db, args.profiles)
    bench_reads(db, key, args.profiles, args.requests)
    bench_resolution(db, args.profiles)
    db.dispose()


if __name__ == "__main__":
    main()
