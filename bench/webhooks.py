"""Outbound webhooks (PostgreSQL): what matching events to endpoints costs the events processor,
and how fast batches reach a receiver, each next to a plain baseline.

    python bench/webhooks.py [--requests 30] [--workers 2]

1. Processing CPU. The inbox is filled with `--requests` bulk requests of 1,000 events (as
   bench/ingest.py does, through the same acceptance code) and drained by `tidings worker`
   processes (webhook senders off), three times: a warm-up (the profiles get created), then with
   no webhook, then with three endpoints subscribed to every topic of the account (so every
   event makes three outbox rows in the processor's transaction). CPU per event of the workers
   and of the PostgreSQL backends serving them, read from /proc; the target is at most 20% more
   with the three endpoints. A last run with no webhook again shows the noise.
2. Delivery. The outbox the second run left (three rows per event) is sent by one webhook sender
   (`tidings.webhooks.sender.WebhookSender`, as `tidings serve` runs it) to a receiver process on
   127.0.0.1 that answers 200 at once; the rate is events delivered per second (an event sent to
   three endpoints counts three times), target >= 2,000/s. Baseline: the same bodies POSTed by a
   plain httpx client to the same receiver with no database.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from _common import cpu_seconds, database_url, free_port, fresh_database, machine, migrate_and_account
from ingest import analyze, bulk_body, processing
from sqlalchemy import text
from sqlalchemy.orm import Session

from tidings import domains
from tidings.config import Settings
from tidings.db.ids import ulid
from tidings.db.session import Database
from tidings.events.ingest.inbox import PROCESS_JOB
from tidings.events.ingest.intakes import accept_bulk_create_events
from tidings.events.ingest.structs import read_bulk
from tidings.jobs.queue import enqueue
from tidings.webhooks import service, topics
from tidings.webhooks.schemas import TopicIdentifier, WebhookCreateAttributes
from tidings.webhooks.sender import WebhookSender

RECEIVER = textwrap.dedent(
    """
    import http.server, sys, threading
    count = {"requests": 0, "events": 0}
    lock = threading.Lock()
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a): pass
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                count["requests"] += 1
                count["events"] += body.count(b'"external_id"')
            self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
        def do_GET(self):
            with lock:
                out = ("%d %d" % (count["requests"], count["events"])).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(out))); self.end_headers()
            self.wfile.write(out)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()
    """
)


def fill(engine, account_id: str, first_batch: int, requests: int, jobs: int = 160) -> None:
    """`requests` bulk requests of 1,000 new events (unique ids from `first_batch` on)."""
    rows = [
        accept_bulk_create_events(read_bulk(json.dumps(bulk_body(first_batch + b, 1000)).encode()))
        for b in range(requests)
    ]
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session, session.begin():
        session.execute(
            text(
                "INSERT INTO event_inbox (account_id, id, kind, payload, received) "
                "VALUES (:a, :id, 'bulk_create_events', :payload, :received)"
            ),
            [{"a": account_id, "id": ulid(), "payload": p, "received": now} for p in rows],
        )
        for slot in range(jobs):
            enqueue(session, PROCESS_JOB, account_id=account_id, dedup_key=f"fill:{first_batch}:{slot}")
    analyze(engine)


def run_processing(url: str, engine, account_id: str, first_batch: int, args) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    fill(engine, account_id, first_batch, args.requests)
    result = processing(url, engine, args.workers, 1)
    return result.rate, result.per_event_us(result.worker_cpu), result.per_event_us(result.database_cpu)


def subscribe_everything(db: Database, account_id: str, receiver_url: str, endpoints: int) -> None:
    with db.write() as session:
        every = [
            TopicIdentifier(type="webhook-topic", id=t) for t in topics.account_topics(session, account_id)
        ]
        for n in range(endpoints):
            attributes = WebhookCreateAttributes(
                name=f"bench {n}", endpoint_url=f"{receiver_url}/hook{n}", secret_key=f"secret-{n}"
            )
            service.create_webhook(session, account_id, attributes, every, allow_private=True)


def outbox_left(engine) -> int:
    """(endpoint, event) pairs waiting: matched events times their endpoints, and fanned-out rows."""
    with engine.connect() as conn:
        matched = conn.execute(
            text(
                "SELECT coalesce(sum(length(webhook_ids) - length(replace(webhook_ids, ',', '')) + 1), 0) "
                "FROM webhook_matches"
            )
        ).scalar()
        return int(matched or 0) + int(
            conn.execute(text("SELECT count(*) FROM webhook_outbox")).scalar() or 0
        )


_POLL = httpx.Client(timeout=5)  # one client: a new one per poll costs a TLS context's CPU


def receiver_count(url: str) -> tuple[int, int]:
    requests, events = _POLL.get(url).text.split()
    return int(requests), int(events)


def deliver(db: Database, settings: Settings, engine, receiver_url: str) -> tuple[float, int, float]:
    """(events/s, events delivered, sender CPU s) for the whole outbox."""
    expected = outbox_left(engine)
    before = receiver_count(receiver_url)[1]
    sender = WebhookSender(db, settings)
    process_cpu = cpu_seconds(os.getpid())
    started = time.perf_counter()
    sender.start()
    while receiver_count(receiver_url)[1] - before < expected:
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    sender.stop()
    delivered = receiver_count(receiver_url)[1] - before
    return delivered / elapsed, delivered, cpu_seconds(os.getpid()) - process_cpu


def plain_baseline(engine, receiver_url: str, limit: int) -> float:
    """The same bodies (already built, from the batches just sent) POSTed with httpx, no database."""
    with engine.connect() as conn:
        bodies = [
            r[0].encode()
            for r in conn.execute(text("SELECT body FROM webhook_batches LIMIT :n"), {"n": limit})
        ]
    events = sum(b.count(b'"external_id"') for b in bodies)

    async def go() -> float:
        async with httpx.AsyncClient() as client:
            started = time.perf_counter()

            async def one(lane: list[bytes]) -> None:
                for body in lane:
                    await client.post(f"{receiver_url}/plain", content=body)

            lanes = [bodies[i::3] for i in range(3)]  # one at a time per endpoint, three endpoints
            await asyncio.gather(*(one(lane) for lane in lanes))
            return events / (time.perf_counter() - started)

    return asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30, help="bulk requests of 1,000 events per run")
    parser.add_argument("--workers", type=int, default=2, help="`tidings worker` processes")
    parser.add_argument("--endpoints", type=int, default=3)
    parser.add_argument("--database", default="tidings_bench_webhooks")
    args = parser.parse_args()
    os.environ["TIDINGS_WEBHOOK_WORKERS"] = "0"  # the worker processes only process events
    os.environ["TIDINGS_ALLOW_PRIVATE_URLS"] = "true"  # the receiver is on 127.0.0.1
    url = database_url(args.database)
    engine = fresh_database(url)
    keys = migrate_and_account(url)
    account_id = keys["account_id"]
    print(f"machine: {machine()}; database: PostgreSQL; load average {os.getloadavg()[0]:.2f} at the start")

    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port)])
    receiver_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                receiver_count(receiver_url)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

        domains.install()
        settings = Settings(database_url=url, allow_private_urls=True, log_level="WARNING")
        db = Database(settings)
        run_processing(url, engine, account_id, 0, args)  # warm-up: profiles and metrics created
        runs: list[tuple[str, tuple[float, float, float]]] = []
        runs.append(("no webhook", run_processing(url, engine, account_id, 1000, args)))
        subscribe_everything(db, account_id, receiver_url, args.endpoints)
        runs.append(
            (f"{args.endpoints} endpoints, every topic", run_processing(url, engine, account_id, 2000, args))
        )
        outboxed = outbox_left(engine)
        print(f"\nprocessing {args.requests * 1000:,} events per run, {args.workers} worker processes:")
        for name, (rate, worker_us, database_us) in runs:
            print(
                f"  {name:28} {rate:8,.0f} events/s   CPU per event: workers {worker_us:5.0f} us, "
                f"PostgreSQL {database_us:5.0f} us, together {worker_us + database_us:5.0f} us"
            )
        base, hooked = (sum(r[1][1:]) for r in runs)
        print(
            f"  endpoint-event pairs matched: {outboxed:,}; CPU with webhooks / without: {hooked / base:.2f} (target <= 1.20)"
        )

        rate, delivered, sender_cpu = deliver(db, settings, engine, receiver_url)
        baseline = plain_baseline(engine, receiver_url, 300)
        print(
            f"\ndelivery: {delivered:,} events to {args.endpoints} endpoints in batches of "
            f"{settings.webhook_batch_size}: {rate:,.0f} events/s (target >= 2,000); "
            f"bench process CPU {sender_cpu:.1f} s ({sender_cpu / max(delivered, 1) * 1e6:.0f} us per event)"
        )
        print(
            f"  plain httpx POSTs of the same bodies: {baseline:,.0f} events/s; ratio {rate / baseline:.2f}"
        )

        with engine.connect() as conn:
            conn.execute(text("DELETE FROM webhooks"))
            conn.commit()
        again = run_processing(url, engine, account_id, 3000, args)
        print(
            f"\nno webhook again (noise): {again[0]:,.0f} events/s, CPU per event {again[1] + again[2]:.0f} us; "
            f"load average at the end {os.getloadavg()[0]:.2f}"
        )
        db.dispose()
    finally:
        receiver.terminate()
        receiver.wait(5)
        engine.dispose()


if __name__ == "__main__":
    main()
