"""Crash safety of ingestion: kill the server with SIGKILL while it accepts events, restart it,
and count acknowledged events that are missing or duplicated afterwards. Both must be 0.

    python bench/crash_ingest.py [--database-url URL] [--events 5000] [--kills 5] [--concurrency 16]

Without --database-url it uses PostgreSQL (TIDINGS_BENCH_DATABASE_URL, default the local
server's `tidings_bench_crash` database, recreated). The test suite runs a small version.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
REVISION = "2026-10-15"


@dataclass
class CrashResult:
    sent: int = 0
    acknowledged: int = 0
    missing: int = 0
    duplicated: int = 0
    kills: int = 0
    acked_ids: set[str] = field(default_factory=set)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TIDINGS_DATABASE_URL=database_url,
        TIDINGS_RATE_LIMITS_ENABLED="false",
        TIDINGS_WORKERS="1",
        TIDINGS_LOG_LEVEL="WARNING",
        TIDINGS_JOB_LEASE_SECONDS="3",
    )
    return env


def start_server(database_url: str, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tidings.cli", "serve", "--port", str(port), "--no-migrate"],
        env=_env(database_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 90  # a loaded machine starts it slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def _body(unique_id: str, n: int) -> dict:
    return {
        "data": {
            "type": "event",
            "attributes": {
                "properties": {"n": n},
                "unique_id": unique_id,
                "metric": {"data": {"type": "metric", "attributes": {"name": "Crash Test"}}},
                "profile": {
                    "data": {"type": "profile", "attributes": {"email": f"crash{n % 50}@example.com"}}
                },
            },
        }
    }


def run(
    database_url: str, private_key: str, account_id: str, *, events: int, kills: int, concurrency: int
) -> CrashResult:
    from sqlalchemy import create_engine, text

    result = CrashResult()
    port = _free_port()
    headers = {"Authorization": f"Klaviyo-API-Key {private_key}", "revision": REVISION}
    counter = iter(range(events))
    lock = threading.Lock()
    server = start_server(database_url, port)
    kill_every = max(1, events // (kills + 1))

    def sender() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                unique_id = f"crash-{n}"
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:  # like a client with retries
                    try:
                        response = client.post("/api/events", json=_body(unique_id, n), headers=headers)
                    except httpx.HTTPError:
                        time.sleep(0.05)  # not acknowledged: the server died under us; try again
                        continue
                    with lock:
                        result.sent += 1
                        if response.status_code == 202:
                            result.acked_ids.add(unique_id)
                    break

    def killer() -> None:
        nonlocal server
        while result.kills < kills and any(t.is_alive() for t in threads):
            time.sleep(0.01)
            if len(result.acked_ids) >= kill_every * (result.kills + 1):
                server.send_signal(signal.SIGKILL)
                server.wait()
                result.kills += 1
                server = start_server(database_url, port)

    threads = [threading.Thread(target=sender) for _ in range(concurrency)]
    watchdog = threading.Thread(target=killer)
    for thread in [*threads, watchdog]:
        thread.start()
    for thread in threads:
        thread.join()
    watchdog.join(timeout=120)

    engine = create_engine(database_url)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # let the restarted server drain the inbox
            with engine.connect() as conn:
                pending = conn.execute(
                    text("SELECT count(*) FROM event_inbox WHERE account_id = :a"), {"a": account_id}
                ).scalar()
            if pending == 0:
                break
            time.sleep(0.2)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT e.unique_id, count(*) FROM events e JOIN metrics m "
                    "ON m.account_id = e.account_id AND m.id = e.metric_id "
                    "WHERE e.account_id = :a AND m.name = 'Crash Test' GROUP BY e.unique_id"
                ),
                {"a": account_id},
            ).all()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
        engine.dispose()
    stored = {unique_id: count for unique_id, count in rows}
    result.acknowledged = len(result.acked_ids)
    result.missing = sum(1 for unique_id in result.acked_ids if unique_id not in stored)
    result.duplicated = sum(count - 1 for count in stored.values() if count > 1)
    return result


def _fresh_database(url: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = os.environ.get(
        "TIDINGS_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/tidings_bench_crash"
    )
    parser.add_argument("--database-url", default=default)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    url = (
        _fresh_database(args.database_url)
        if args.database_url.startswith("postgresql")
        else args.database_url
    )
    env = _env(url)
    subprocess.run([sys.executable, "-m", "tidings.cli", "db", "upgrade"], env=env, check=True, cwd=ROOT)
    created = subprocess.run(
        [sys.executable, "-m", "tidings.cli", "accounts", "create", "Crash", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    keys = json.loads(created.stdout)
    started = time.monotonic()
    result = run(
        url,
        keys["private_key"],
        keys["account_id"],
        events=args.events,
        kills=args.kills,
        concurrency=args.concurrency,
    )
    print(
        f"crash_ingest: {result.sent} sent, {result.acknowledged} acknowledged, {result.kills} SIGKILLs, "
        f"missing {result.missing}, duplicated {result.duplicated} ({time.monotonic() - started:.1f} s)"
    )
    sys.exit(1 if result.missing or result.duplicated else 0)


if __name__ == "__main__":
    main()
