"""The first call to a route after start-up, next to the second, on a fresh server.

    .venv/bin/python bench/first_call.py [--rounds 3] [--database-url URL]

For each route, a fresh `tidings serve` (SQLite in a temporary directory unless
`--database-url`, as `make run` serves) is started, and once its port accepts connections
(no request before: /healthz would warm things too), the route is called twice. Also the time
from starting the process to the port accepting connections, since work moved into start-up
is paid there. Medians of the rounds.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from _common import ROOT, free_port, machine

REVISION = "2026-07-15"


def _event(n: int) -> dict[str, Any]:
    return {
        "data": {
            "type": "event",
            "attributes": {
                "properties": {"Total": 42.5},
                "metric": {"data": {"type": "metric", "attributes": {"name": "Placed Order"}}},
                "profile": {"data": {"type": "profile", "attributes": {"email": f"first{n}@example.com"}}},
            },
        }
    }


def _segment(n: int) -> dict[str, Any]:
    condition = {
        "type": "profile-property",
        "property": "email",
        "filter": {"type": "existence", "operator": "is-set"},
    }
    definition = {"condition_groups": [{"conditions": [condition]}]}
    return {"data": {"type": "segment", "attributes": {"name": f"First {n}", "definition": definition}}}


ROUTES: dict[str, tuple[str, str, Callable[[int], dict[str, Any]] | None]] = {
    "GET /api/accounts": ("GET", "/api/accounts", None),
    "GET /api/profiles": ("GET", "/api/profiles", None),
    "POST /api/events": ("POST", "/api/events", _event),
    "POST /api/segments": ("POST", "/api/segments", _segment),
}


def _run(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tidings.cli", *args],
        env={**os.environ, "TIDINGS_DATABASE_URL": url},
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return done.stdout


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("server did not start")


def one_round(url: str, private_key: str, name: str, n: int) -> tuple[float, float, float]:
    """(start-up s, first call ms, second call ms) for one route on a fresh server."""
    method, path, body = ROUTES[name]
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "tidings.cli", "serve", "--port", str(port), "--no-migrate"],
        env={
            **os.environ,
            "TIDINGS_DATABASE_URL": url,
            "TIDINGS_RATE_LIMITS_ENABLED": "false",
            "TIDINGS_LOG_LEVEL": "WARNING",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        _wait_for_port(port, process)
        startup = time.perf_counter() - started
        headers = {"Authorization": f"Klaviyo-API-Key {private_key}", "revision": REVISION}
        timings = []
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.connect()  # outside the timing: the first request is the route's alone
        for call in range(2):
            payload = json.dumps(body(n * 10 + call)).encode() if body else None
            call_headers = {**headers, "Content-Type": "application/json"} if payload else headers
            began = time.perf_counter()
            connection.request(method, path, body=payload, headers=call_headers)
            response = connection.getresponse()
            text = response.read()
            timings.append((time.perf_counter() - began) * 1000)
            assert response.status < 300, text
        connection.close()
        return startup, timings[0], timings[1]
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/first_call.db"
        _run(url, "db", "upgrade")
        key = json.loads(_run(url, "accounts", "create", "First call", "--json"))["private_key"]
        print(f"{machine()}, {url.split(':')[0]}, median of {args.rounds} fresh servers per route")
        print(f"{'route':<22} {'start-up s':>10} {'first ms':>9} {'second ms':>10}")
        for index, name in enumerate(ROUTES):
            rounds = [one_round(url, key, name, index * 100 + r) for r in range(args.rounds)]
            startup, first, second = (statistics.median(column) for column in zip(*rounds, strict=True))
            print(f"{name:<22} {startup:>10.2f} {first:>9.1f} {second:>10.1f}")


if __name__ == "__main__":
    main()
