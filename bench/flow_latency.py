"""Event to inbox (PostgreSQL): a live metric-triggered flow with no delay, from `create_event`
answered 202 to the email at a local SMTP sink, through a running `tidings serve`.

    python bench/flow_latency.py [--events 200] [--rate 20]

The server runs as `make run` runs it (workers in-process), with the `smtp` provider pointed at
an aiosmtpd sink in this process that notes when each message arrives. The flow: trigger
`Bench Checkout`, then send an email (a small template with the person's name and the event's
total). Events go out at `--rate` a second, each for a new person; the figure is each message's
time from its event's 202 to its arrival at the sink (p50, p95, max). Baseline: the same sink
reached by aiosmtplib sending a pre-built message, one at a time (the network and SMTP part of
the path alone). Issue 19's target: p95 <= 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
from _common import ROOT, database_url, free_port, fresh_database, machine

REVISION = "2026-07-15"
METRIC = "Bench Checkout"
TEMPLATE = "<html><body><p>Hello {{ first_name|default:'there' }}, your total is {{ event.Total }}.</p></body></html>"


class Sink:
    """An aiosmtpd sink that notes the arrival time of each message by recipient."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                now = time.time()
                with sink.lock:
                    for rcpt in envelope.rcpt_tos:
                        sink.arrived.setdefault(rcpt.lower(), now)
                return "250 2.0.0 Ok: queued"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)

    def __enter__(self) -> Sink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def _cli(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tidings.cli", *args],
        env={**os.environ, "TIDINGS_DATABASE_URL": url},
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return done.stdout


def _event(email: str, total: int) -> dict[str, Any]:
    return {
        "data": {
            "type": "event",
            "attributes": {
                "properties": {"Total": total},
                "metric": {"data": {"type": "metric", "attributes": {"name": METRIC}}},
                "profile": {"data": {"type": "profile", "attributes": {"email": email, "first_name": "Ada"}}},
            },
        }
    }


def _wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def _setup_flow(api: httpx.Client) -> str:
    template = api.post(
        "/api/templates",
        json={
            "data": {
                "type": "template",
                "attributes": {"name": "Bench", "editor_type": "CODE", "html": TEMPLATE},
            }
        },
    )
    template.raise_for_status()
    template_id = template.json()["data"]["id"]
    api.post("/api/events", json=_event("seed@bench.example", 0)).raise_for_status()  # makes the metric

    def metric_id() -> str | None:
        listed = api.get("/api/metrics").json()["data"]
        return next((m["id"] for m in listed if m["attributes"]["name"] == METRIC), None)

    trigger = _wait_for(metric_id, 30, "the metric")
    action = {
        "temporary_id": "mail",
        "type": "send-email",
        "links": {"next": None},
        "data": {
            "status": "draft",
            "message": {
                "from_email": "shop@bench.example",
                "from_label": "Bench Shop",
                "subject_line": "Your cart",
                "template_id": template_id,
                "name": "Your cart",
                "smart_sending_enabled": False,
            },
        },
    }
    definition = {
        "triggers": [{"type": "metric", "id": trigger}],
        "entry_action_id": "mail",
        "actions": [action],
    }
    created = api.post(
        "/api/flows",
        json={"data": {"type": "flow", "attributes": {"name": "Latency", "definition": definition}}},
    )
    created.raise_for_status()
    flow_id = created.json()["data"]["id"]
    live = api.patch(
        f"/api/flows/{flow_id}",
        json={"data": {"type": "flow", "id": flow_id, "attributes": {"status": "live"}}},
    )
    live.raise_for_status()
    return str(flow_id)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def _baseline(port: int, count: int) -> list[float]:
    import aiosmtplib

    message = (
        b"From: shop@bench.example\r\nTo: base@bench.example\r\nSubject: Your cart\r\n"
        b"Message-ID: <base@bench.example>\r\n\r\nHello Ada, your total is 12.\r\n"
    )
    timings = []
    for n in range(count):
        began = time.perf_counter()
        await aiosmtplib.send(
            message,
            sender="shop@bench.example",
            recipients=[f"base{n}@bench.example"],
            hostname="127.0.0.1",
            port=port,
        )
        timings.append(time.perf_counter() - began)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="events a second")
    args = parser.parse_args()
    url = database_url("tidings_bench_flow_latency")
    fresh_database(url).dispose()
    _cli(url, "db", "upgrade")
    key = json.loads(_cli(url, "accounts", "create", "Latency", "--json"))["private_key"]
    print(f"machine: {machine()}")
    print("load average (1, 5, 15 min) at the start: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    smtp_port, port = free_port(), free_port()
    env = {
        **os.environ,
        "TIDINGS_DATABASE_URL": url,
        "TIDINGS_RATE_LIMITS_ENABLED": "false",
        "TIDINGS_LOG_LEVEL": "WARNING",
        "TIDINGS_EMAIL_PROVIDER": "smtp",
        "TIDINGS_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "TIDINGS_PUBLIC_URL": "https://t.bench.example",
    }
    with Sink(smtp_port) as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "tidings.cli", "serve", "--port", str(port), "--no-migrate"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            headers = {"Authorization": f"Klaviyo-API-Key {key}", "revision": REVISION}
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as api:
                _wait_for(lambda: _reachable(api), 60, "the server")
                _setup_flow(api)
                time.sleep(1.0)  # the flow is live; the seed event's run (none: it came first) settles
                sent: dict[str, float] = {}
                for n in range(args.events):
                    address = f"reader{n}@bench.example"
                    began = time.time()
                    api.post("/api/events", json=_event(address, n)).raise_for_status()
                    sent[address] = began
                    time.sleep(max(0.0, 1.0 / args.rate - (time.time() - began)))
                _wait_for(lambda: all(a in sink.arrived for a in sent), 120, "every message at the sink")
        finally:
            server.terminate()
            server.wait(30)
        latencies = [sink.arrived[a] - t for a, t in sent.items()]
        baseline = asyncio.run(_baseline(smtp_port, 50))
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()))
    print(
        f"event to inbox, {len(latencies)} events at {args.rate:g}/s: p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {_percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms (issue target: p95 <= 2,000 ms)"
    )
    print(
        f"baseline (aiosmtplib, a pre-built message to the same sink, one at a time): p50 "
        f"{statistics.median(baseline) * 1000:.1f} ms, p95 {_percentile(baseline, 0.95) * 1000:.1f} ms"
    )


def _reachable(api: httpx.Client) -> bool:
    try:
        return api.get("/api/accounts").status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
