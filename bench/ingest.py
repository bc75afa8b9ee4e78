"""Ingestion benchmark (PostgreSQL): accept rate of single and bulk events, processing rate,
and end-to-end lag, each next to its plain baseline on the same database.

    python bench/ingest.py [--seconds 15] [--bulk-seconds 3] [--lag-seconds 20]

Needs `wrk` for the HTTP load (apt-get install wrk): a C client, so that on this two-core
machine the load generator takes as little of the CPU as it can. The server runs with two
processes (this machine has two cores); accepting is measured with background workers off,
processing with the API idle, as the figures in docs/BENCHMARKS.md say.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
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
    database_url,
    env,
    free_port,
    fresh_database,
    machine,
    migrate_and_account,
    serve,
)
from sqlalchemy import text

REVISION = "2026-10-15"

# Each wrk thread numbers its requests (`tid`, `counter`) so that every event has its own unique id.
WRK_PREAMBLE = """
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
local headers = {["Content-Type"]="application/vnd.api+json", ["Authorization"]="Klaviyo-API-Key {KEY}",
  ["revision"]="{REVISION}"}
"""

WRK_SCRIPT = """
request = function()
  counter = counter + 1
  local body = string.format('{"data":{"type":"event","attributes":{"properties":{"Total":%d,"Items":["a","b"]},'
    .. '"unique_id":"w%d-%d","metric":{"data":{"type":"metric","attributes":{"name":"Viewed Product"}}},'
    .. '"profile":{"data":{"type":"profile","attributes":{"email":"wrk%d@example.com"}}}}}}',
    counter, tid, counter, counter % 1000)
  return wrk.format("POST", "/api/events", headers, body)
end
"""


def load(url: str, key: str, script: str, seconds: int, connections: int) -> dict[str, float]:
    """Run `script` with wrk (2 threads) against a fresh `tidings serve --processes 2` (background
    workers off) for `seconds`: requests/s, p99, non-2xx, and the CPU seconds of the server's
    processes and of PostgreSQL while it ran."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed for the HTTP load: apt-get install wrk")
    port = free_port()
    server = serve(url, port, processes=2, workers=0)
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
            file.write((WRK_PREAMBLE + script).replace("{KEY}", key).replace("{REVISION}", REVISION))
        cpu = CpuMeter(server.pid)
        command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", file.name]
        out = subprocess.run(
            [*command, f"http://127.0.0.1:{port}"],
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
        .. '"Brand":"Acme"},"unique_id":"b%d-%d-%d-%d","metric":{"data":{"type":"metric","attributes":'
        .. '{"name":"Placed Order"}}}}}', n, tid, counter, g, n)
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
        inbox = conn.execute(text("SELECT count(*) FROM event_inbox")).scalar() or 0
        events = conn.execute(text("SELECT count(*) FROM events")).scalar() or 0
    return int(inbox), int(events)


def processing(url: str, engine, workers: int = 2) -> float:
    """Drain what the accept benchmarks left in the inbox with `tidings worker` processes. The
    clock starts when the first batch has landed, so the workers' start-up (about a second of
    imports each) is not counted as processing."""
    _, before = pending(engine)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tidings.cli", "worker", "--concurrency", "2"],
            env=env(url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        for _ in range(workers)
    ]
    try:
        while True:
            inbox, first = pending(engine)
            if first > before or inbox == 0:
                break
            time.sleep(0.02)
        started = time.perf_counter()
        while True:
            inbox, _ = pending(engine)
            if inbox == 0:
                break
            time.sleep(0.1)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(15)
    elapsed = time.perf_counter() - started
    _, after = pending(engine)
    return (after - first) / elapsed


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--bulk-seconds", type=int, default=3)
    parser.add_argument("--lag-seconds", type=int, default=20)
    args = parser.parse_args()
    url = database_url("tidings_bench_ingest")
    engine = fresh_database(url)
    keys = migrate_and_account(url)
    print(f"machine: {machine()}; database: PostgreSQL")

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
        f"bulk_create_events, 1,000 per request, 4 connections: {bulk['rate']:,.0f} events/s accepted "
        f"({bulk['events']:,.0f} events, non-2xx {bulk['errors']:.0f}; CPU per event: server "
        f"{bulk['server_us']:.1f} us, PostgreSQL {bulk['database_us']:.1f} us); "
        f"COPY of the same rows: {copy_rate:,.0f} rows/s; ratio {bulk['rate'] / copy_rate:.0%}"
    )

    inbox, _ = pending(engine)
    rate = processing(url, engine)
    print(
        f"processing ({inbox:,} inbox rows; identity resolution, events, metric properties): {rate:,.0f} events/s"
    )

    result = lag(url, keys["private_key"], keys["account_id"], engine, rate / 2, args.lag_seconds)
    print(
        f"end-to-end lag at {rate / 2:,.0f} events/s: p50 {result['p50']:.2f} s, p95 {result['p95']:.2f} s "
        f"({result['visible']:.0f}/{result['batches']:.0f} batches visible)"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
