"""Ingestion benchmark (PostgreSQL): accept rate of single and bulk events, processing rate,
and end-to-end lag, each next to its plain baseline on the same database.

    python bench/ingest.py [--seconds 15] [--bulk-seconds 3] [--lag-seconds 20]
    python bench/ingest.py --only processing [--single-rows 35000] [--bulk-requests 60]

`--only processing` skips the HTTP phases: it fills the inbox directly with what they leave
(single events as wrk sends them, bulk requests of 1,000), through the same acceptance code, and
reports the processing rate with the CPU it cost, per event: the worker processes' and the
PostgreSQL backends' serving them (read from /proc, so a shared machine's load does not count).

Needs `wrk` for the HTTP load (apt-get install wrk): a C client, so that on this two-core
machine the load generator takes as little of the CPU as it can. The server runs with two
processes (this machine has two cores); accepting is measured with background workers off,
processing with the API idle, as the figures in docs/BENCHMARKS.md say, by two `tidings worker
--concurrency 1` processes (`--workers`, `--concurrency`; until this change, `--concurrency 2`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import httpx
from _common import (
    ROOT,
    CpuMeter,
    cpu_seconds,
    database_url,
    env,
    free_port,
    fresh_database,
    machine,
    migrate_and_account,
    serve,
)
from sqlalchemy import text
from sqlalchemy.engine import make_url

REVISION = "2026-10-15"

# Each wrk thread numbers its requests (`tid`, `counter`) so that every event has its own unique id.
WRK_PREAMBLE = """
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
-- The warm-up and the measured run are two wrk processes that both count from 1: the run's
-- name (after `--` on wrk's command line) keeps their unique ids apart, or the measured run's
-- events would be duplicates that processing drops without counting them.
local run = "m"
function init(args)
  run = args[1] or "m"
end
local headers = {["Content-Type"]="application/vnd.api+json", ["Authorization"]="Klaviyo-API-Key {KEY}",
  ["revision"]="{REVISION}"}
"""

WRK_SCRIPT = """
request = function()
  counter = counter + 1
  local body = string.format('{"data":{"type":"event","attributes":{"properties":{"Total":%d,"Items":["a","b"]},'
    .. '"unique_id":"w%s%d-%d","metric":{"data":{"type":"metric","attributes":{"name":"Viewed Product"}}},'
    .. '"profile":{"data":{"type":"profile","attributes":{"email":"wrk%d@example.com"}}}}}}',
    counter, run, tid, counter, counter % 1000)
  return wrk.format("POST", "/api/events", headers, body)
end
"""


def load(
    url: str, key: str, script: str, seconds: int, connections: int, warmup: int = 2
) -> dict[str, float]:
    """Run `script` with wrk (2 threads) against a fresh `tidings serve --processes 2` (background
    workers off) for `seconds`: requests/s, p99, non-2xx, and the CPU seconds of the server's
    processes and of PostgreSQL while it ran. The same load runs `warmup` seconds first, not
    counted: the steady state is measured, not a cold start (first connections, caches,
    compiled statements), which a burst of 64 clients hitting a just-started server turns
    into a p99 of 150 ms or more."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed for the HTTP load: apt-get install wrk")
    port = free_port()
    server = serve(url, port, processes=2, workers=0)
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
            file.write((WRK_PREAMBLE + script).replace("{KEY}", key).replace("{REVISION}", REVISION))
        target = f"http://127.0.0.1:{port}"
        subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{warmup}s", "-s", file.name, target, "--", "warm"],
            capture_output=True,
            check=True,
        )
        cpu = CpuMeter(server.pid)
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                file.name,
                target,
                "--",
                "run",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        server_cpu, database_cpu = cpu.read()
    finally:
        server.terminate()
        server.wait(15)
    done = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "requests": done,
        "p99_ms": float(p99.group(1)) * scale,  # type: ignore[union-attr]
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
        "server_cpu": server_cpu,
        "database_cpu": database_cpu,
    }


def single_events(url: str, key: str, seconds: int, connections: int) -> dict[str, float]:
    return load(url, key, WRK_SCRIPT, seconds, connections)


def bulk_body(batch: int, size: int) -> dict:
    groups = []
    for g in range(size // 10):
        events = [
            {
                "type": "event",
                "attributes": {
                    "properties": {"Total": n, "Items": ["a", "b"], "Brand": "Acme"},
                    "unique_id": f"b{batch}-{g}-{n}",
                    "metric": {"data": {"type": "metric", "attributes": {"name": "Placed Order"}}},
                },
            }
            for n in range(10)
        ]
        groups.append(
            {
                "type": "event-bulk-create",
                "attributes": {
                    "profile": {
                        "data": {
                            "type": "profile",
                            "attributes": {"email": f"bulk{(batch * 100 + g) % 5000}@example.com"},
                        }
                    },
                    "events": {"data": events},
                },
            }
        )
    return {"data": {"type": "event-bulk-create-job", "attributes": {"events-bulk-create": {"data": groups}}}}


BULK_WRK_SCRIPT = """
request = function()
  counter = counter + 1
  local groups = {}
  for g = 0, 99 do
    local events = {}
    for n = 0, 9 do
      events[n + 1] = string.format('{"type":"event","attributes":{"properties":{"Total":%d,"Items":["a","b"],'
        .. '"Brand":"Acme"},"unique_id":"b%s%d-%d-%d-%d","metric":{"data":{"type":"metric","attributes":'
        .. '{"name":"Placed Order"}}}}}', n, run, tid, counter, g, n)
    end
    groups[g + 1] = string.format('{"type":"event-bulk-create","attributes":{"profile":{"data":{"type":"profile",'
      .. '"attributes":{"email":"bulk%d@example.com"}}},"events":{"data":[%s]}}}',
      (counter * 100 + g) % 5000, table.concat(events, ","))
  end
  local body = '{"data":{"type":"event-bulk-create-job","attributes":{"events-bulk-create":{"data":['
    .. table.concat(groups, ",") .. ']}}}}'
  return wrk.format("POST", "/api/event-bulk-create-jobs", headers, body)
end
"""


def bulk_events(url: str, key: str, seconds: int, connections: int = 8) -> dict[str, float]:
    """Bulk requests of 1,000 events (each its own unique id) for `seconds` over `connections`
    connections: wrk is a C client, so the load generator takes little of the two cores."""
    result = load(url, key, BULK_WRK_SCRIPT, seconds, connections)
    events = result["requests"] * 1000
    return {
        **result,
        "rate": result["rps"] * 1000,
        "events": events,
        "server_us": result["server_cpu"] / events * 1e6,
        "database_us": result["database_cpu"] / events * 1e6,
    }


def copy_baseline(engine, rows: int) -> float:
    """COPY the same events (email, metric, properties, unique id, time) into a plain table."""
    lines = io.StringIO()
    now = dt.datetime.now(dt.UTC).isoformat()
    for i in range(rows):
        props = json.dumps({"Total": i % 10, "Items": ["a", "b"], "Brand": "Acme"})
        lines.write(f"bulk{i % 5000}@example.com\tPlaced Order\t{props}\tc{i}\t{now}\n")
    data = lines.getvalue()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("DROP TABLE IF EXISTS copy_baseline")
        cur.execute(
            "CREATE TABLE copy_baseline (email text, metric text, properties jsonb, unique_id text, time timestamptz)"
        )
        raw.commit()
        started = time.perf_counter()
        with cur.copy("COPY copy_baseline FROM STDIN") as copy:
            copy.write(data)
        raw.commit()
        elapsed = time.perf_counter() - started
        cur.execute("DROP TABLE copy_baseline")
        raw.commit()
    finally:
        raw.close()
    return rows / elapsed


def pending(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return _pending(conn)


def _pending(conn) -> tuple[int, int]:
    inbox = conn.execute(text("SELECT count(*) FROM event_inbox")).scalar() or 0
    events = conn.execute(text("SELECT count(*) FROM events")).scalar() or 0
    return int(inbox), int(events)


class Processing:
    """The processing rate and the CPU it cost: the workers' and their PostgreSQL backends'."""

    def __init__(self, rate: float, events: int, worker_cpu: float, database_cpu: float) -> None:
        self.rate = rate
        self.events = events
        self.worker_cpu = worker_cpu
        self.database_cpu = database_cpu

    def per_event_us(self, cpu: float) -> float:
        return cpu / max(self.events, 1) * 1e6


def processing(url: str, engine, workers: int = 2, concurrency: int = 1) -> Processing:
    """Drain what the accept benchmarks left in the inbox with `tidings worker` processes. The
    clock starts when the first batch has landed, so the workers' start-up (about a second of
    imports each) is not counted as processing, nor in the CPU, which is counted from then on."""
    _, before = pending(engine)
    monitor = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    own = monitor.execute(text("SELECT pg_backend_pid()")).scalar()
    database = make_url(url).database
    backends: dict[int, float] = {}

    def sample() -> None:
        pids = monitor.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> :own"),
            {"d": database, "own": own},
        ).scalars()
        for pid in pids:
            backends[pid] = max(backends.get(pid, 0.0), cpu_seconds(pid))

    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tidings.cli", "worker", "--concurrency", str(concurrency)],
            env=env(url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        for _ in range(workers)
    ]
    worker_cpu = 0.0
    backends_at_start: dict[int, float] = {}
    try:
        while True:
            inbox, first = _pending(monitor)
            if first > before or inbox == 0:
                break
            time.sleep(0.02)
        started = time.perf_counter()
        # CPU from here on: the workers' start-up (imports, about a second each) is not processing.
        sample()
        backends_at_start = dict(backends)
        worker_cpu_at_start = sum(cpu_seconds(proc.pid) for proc in procs)
        # Only whether the inbox is empty: counting the events every 100 ms cost PostgreSQL CPU
        # that the workers measured here then did not have.
        empty = text("SELECT NOT EXISTS (SELECT 1 FROM event_inbox)")
        while True:
            sample()
            if monitor.execute(empty).scalar():
                break
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        sample()
        worker_cpu = sum(cpu_seconds(proc.pid) for proc in procs) - worker_cpu_at_start
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(15)
        monitor.close()
    _, after = pending(engine)
    database_cpu = sum(cpu - backends_at_start.get(pid, 0.0) for pid, cpu in backends.items())
    return Processing((after - first) / elapsed, after - first, worker_cpu, database_cpu)


def fill_inbox(engine, account_id: str, single_rows: int, bulk_requests: int, jobs: int = 160) -> None:
    """What the accept phases leave, without HTTP: `single_rows` events as the wrk script sends
    them and `bulk_requests` bulk requests of 1,000, accepted by the same code as the endpoints,
    and `jobs` processing jobs (the accept phases enqueue one per account per 100 ms)."""
    from sqlalchemy.orm import Session

    from tidings.db.ids import ulid
    from tidings.events.ingest.inbox import PROCESS_JOB
    from tidings.events.ingest.intakes import (
        BULK_CREATE_EVENTS,
        CREATE_EVENT,
        accept_bulk_create_events,
        accept_create_event,
    )
    from tidings.events.ingest.structs import read_bulk, read_event
    from tidings.jobs.queue import enqueue

    rows = []
    for n in range(1, single_rows + 1):
        body = json.dumps(
            {
                "data": {
                    "type": "event",
                    "attributes": {
                        "properties": {"Total": n, "Items": ["a", "b"]},
                        "unique_id": f"w{n % 2}-{n}",
                        "metric": {"data": {"type": "metric", "attributes": {"name": "Viewed Product"}}},
                        "profile": {
                            "data": {"type": "profile", "attributes": {"email": f"wrk{n % 1000}@example.com"}}
                        },
                    },
                }
            }
        )
        rows.append((CREATE_EVENT.kind, accept_create_event(read_event(body.encode()))))
    for b in range(bulk_requests):
        payload = accept_bulk_create_events(read_bulk(json.dumps(bulk_body(b, 1000)).encode()))
        rows.append((BULK_CREATE_EVENTS.kind, payload))
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session, session.begin():
        for start in range(0, len(rows), 5000):
            session.execute(
                text(
                    "INSERT INTO event_inbox (account_id, id, kind, payload, received) "
                    "VALUES (:a, :id, :kind, :payload, :received)"
                ),
                [
                    {"a": account_id, "id": ulid(), "kind": kind, "payload": payload, "received": now}
                    for kind, payload in rows[start : start + 5000]
                ],
            )
        for slot in range(jobs):
            enqueue(session, PROCESS_JOB, account_id=account_id, dedup_key=f"fill:{slot}")
    analyze(engine)


def analyze(engine) -> None:
    """Refresh the planner's statistics, as autovacuum would after the accept phases' inserts:
    this machine's PostgreSQL runs with `autovacuum = off`, so without it the processor's
    queries are planned for the empty tables the run started with."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def lag(url: str, key: str, account_id: str, engine, rate: float, seconds: int) -> dict[str, float]:
    """Send bulk requests of 100 events at `rate` events/s; time each until it is in `events`."""
    port = free_port()
    server = serve(url, port, processes=2, workers=1)
    headers = {"Authorization": f"Klaviyo-API-Key {key}", "revision": REVISION}
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    stop = threading.Event()

    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)

    def poll() -> None:
        query = text(
            "SELECT DISTINCT split_part(unique_id, '-', 2) FROM events "
            "WHERE account_id = :a AND time >= :since AND unique_id LIKE 'lag-%'"
        )
        while not stop.is_set() or len(seen) < len(sent):
            with engine.connect() as conn:
                found = conn.execute(query, {"a": account_id, "since": since}).scalars().all()
            now = time.perf_counter()
            for batch in found:
                seen.setdefault(f"lag-{batch}", now)
            if stop.is_set() and time.perf_counter() - stopped_at > 30:
                return
            time.sleep(0.05)

    stopped_at = 0.0
    poller = threading.Thread(target=poll)
    poller.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            interval = 100 / rate
            started = time.perf_counter()
            n = 0
            while time.perf_counter() - started < seconds:
                body = bulk_body(10_000 + n, 100)
                for group in body["data"]["attributes"]["events-bulk-create"]["data"]:
                    for event in group["attributes"]["events"]["data"]:
                        event["attributes"]["unique_id"] = f"lag-{n}-{event['attributes']['unique_id']}"
                response = client.post("/api/event-bulk-create-jobs", json=body, headers=headers)
                if response.status_code == 202:
                    sent[f"lag-{n}"] = time.perf_counter()
                n += 1
                time.sleep(max(0.0, started + n * interval - time.perf_counter()))
        stopped_at = time.perf_counter()
    finally:
        stop.set()
        poller.join()
        server.terminate()
        server.wait(15)
    lags = sorted(seen[k] - sent[k] for k in sent if k in seen)
    return {
        "batches": len(sent),
        "visible": len(lags),
        "p50": statistics.median(lags) if lags else float("nan"),
        "p95": lags[int(len(lags) * 0.95) - 1] if lags else float("nan"),
    }


def report_processing(inbox: int, result: Processing) -> None:
    print(
        f"processing ({inbox:,} inbox rows; identity resolution, events, metric properties): "
        f"{result.rate:,.0f} events/s; CPU per event: workers {result.per_event_us(result.worker_cpu):.0f} us, "
        f"PostgreSQL {result.per_event_us(result.database_cpu):.0f} us ({result.events:,} events; "
        f"load average before the run {os.getloadavg()[0]:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--bulk-seconds", type=int, default=3)
    parser.add_argument("--lag-seconds", type=int, default=20)
    parser.add_argument("--only", choices=["processing"], help="run one phase (see above)")
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="do not refresh the planner's statistics before processing (see analyze())",
    )
    parser.add_argument("--single-rows", type=int, default=35_000, help="with --only processing")
    parser.add_argument("--bulk-requests", type=int, default=60, help="with --only processing")
    parser.add_argument("--database", default="tidings_bench_ingest", help="the database's name")
    parser.add_argument("--workers", type=int, default=2, help="`tidings worker` processes")
    # One thread per process, one process per core: processing is CPU-bound Python, and a second
    # thread in a process contends for the GIL (measured when batches still waited on each other's
    # profile locks: 2 x 1: 11,200-11,400 events/s; 2 x 2: 8,800-10,600, more CPU per event).
    parser.add_argument("--concurrency", type=int, default=1, help="threads per worker process")
    args = parser.parse_args()
    url = database_url(args.database)
    engine = fresh_database(url)
    keys = migrate_and_account(url)
    print(f"machine: {machine()}; database: PostgreSQL")

    if args.only == "processing":
        fill_inbox(engine, keys["account_id"], args.single_rows, args.bulk_requests)
        inbox, _ = pending(engine)
        report_processing(inbox, processing(url, engine, args.workers, args.concurrency))
        engine.dispose()
        return

    single = single_events(url, keys["private_key"], args.seconds, args.connections)
    print(
        f"single POST /api/events, {args.connections} clients: {single['rps']:.0f} requests/s accepted, "
        f"p99 {single['p99_ms']:.1f} ms, non-2xx {single['errors']:.0f}; CPU per request: server "
        f"{single['server_cpu'] / single['requests'] * 1e6:.0f} us, "
        f"PostgreSQL {single['database_cpu'] / single['requests'] * 1e6:.0f} us"
    )

    bulk = bulk_events(url, keys["private_key"], args.bulk_seconds)
    copy_rate = copy_baseline(engine, int(bulk["events"]))
    print(
        f"bulk_create_events, 1,000 per request, 8 connections: {bulk['rate']:,.0f} events/s accepted "
        f"({bulk['events']:,.0f} events, non-2xx {bulk['errors']:.0f}; CPU per event: server "
        f"{bulk['server_us']:.1f} us, PostgreSQL {bulk['database_us']:.1f} us); "
        f"COPY of the same rows: {copy_rate:,.0f} rows/s; ratio {bulk['rate'] / copy_rate:.0%}"
    )

    inbox, _ = pending(engine)
    if args.analyze:
        analyze(engine)
    result = processing(url, engine, args.workers, args.concurrency)
    report_processing(inbox, result)
    rate = result.rate

    lag_result = lag(url, keys["private_key"], keys["account_id"], engine, rate / 2, args.lag_seconds)
    print(
        f"end-to-end lag at {rate / 2:,.0f} events/s: p50 {lag_result['p50']:.2f} s, "
        f"p95 {lag_result['p95']:.2f} s ({lag_result['visible']:.0f}/{lag_result['batches']:.0f} batches visible)"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
