"""Click redirect benchmark (PostgreSQL): requests/s and p99 of `GET /t/c/<token>`, next to the
same server answering without a write, and the events recorded afterwards (none lost).

    python bench/click_redirect.py [--seconds 15] [--connections 32] [--sends 200] [--no-sync-commit]

`--no-sync-commit` runs the server with TIDINGS_TRACKING_SYNCHRONOUS_COMMIT=false (hits
acknowledged before PostgreSQL's WAL is flushed; see docs/CONFIGURATION.md).

The server runs as `tidings serve --processes 2` with background workers off (this machine has
two cores), loaded by `wrk` (a C client, apt-get install wrk) with 2 threads; each request
clicks one of `--sends` x 4 signed links, round robin. Baselines, each with the same load:
- the same route with a token that is not signed (the 404 page: parsing and refusing the token,
  no hit written);
- `GET /healthz` (one database round trip a request).
Afterwards a worker turns every hit into a `Clicked Email` event, and the script checks that
every answered redirect (warm-up included) became exactly one event.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import httpx
from _common import (
    ROOT,
    CpuMeter,
    database_url,
    free_port,
    fresh_database,
    machine,
    migrate_and_account,
    serve,
)
from sqlalchemy import text
from sqlalchemy.orm import Session

sys.path.insert(0, str(ROOT))

from tidings import domains
from tidings.config import Settings
from tidings.db.session import Database
from tidings.delivery import service
from tidings.delivery.tables import Channel, MessageSend, SendStatus
from tidings.delivery.tracking import TrackingLinks, signer_for
from tidings.jobs.worker import drain
from tidings.profiles import service as profiles

REVISION = "2026-10-15"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"

SCRIPT = """
local paths = {PATHS}
local counter = 0
local headers = {["User-Agent"]="{UA}"}
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1], headers)
end
"""


def prepare(url: str, account_id: str, sends: int) -> list[str]:
    """`sends` profiles, each with a ledger row sent an hour ago; four tracked links each."""
    paths: list[str] = []
    db = Database(Settings(database_url=url))
    try:
        with db.write() as session:
            signer = signer_for(session, db.settings)
            for n in range(sends):
                profile_id = _profile(session, account_id, n)
                planned = service.plan(
                    session,
                    account_id,
                    source=service.ApiSource(f"bench-{n}"),
                    profile_id=profile_id,
                    channel=Channel.EMAIL,
                    domain="bench.test",
                )
                session.query(MessageSend).filter_by(account_id=account_id, id=planned.send.id).update(
                    {
                        "status": SendStatus.SENT.value,
                        "recipient": f"bench{n}@example.com",
                        "context": {"$message": "bench", "Campaign Name": "Bench", "Subject": "Hello"},
                        "finished_at": dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
                    }
                )
                links = TrackingLinks(signer, account_id, planned.send.id)
                for link in range(4):
                    clicked = links.click_url(link, f"https://shop.example.com/product/{n}/{link}?ref=mail")
                    paths.append("/" + clicked.split("/", 3)[3])
    finally:
        db.dispose()
    return paths


def _profile(session: Session, account_id: str, n: int) -> str:
    written = profiles.create_profile(session, account_id, {"email": f"bench{n}@example.com"})
    return str(written.profile.id)


def run_wrk(
    target: str, paths: list[str], seconds: int, connections: int, warmup: int = 2
) -> dict[str, float]:
    lua = SCRIPT.replace("{PATHS}", "{" + ",".join(f'"{p}"' for p in paths) + "}").replace("{UA}", CHROME)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(lua)
    warm = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{warmup}s", "-s", file.name, target],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", file.name, target],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "warmup_requests": int(re.search(r"(\d+) requests in", warm).group(1)),  # type: ignore[union-attr]
        "p99_ms": float(p99.group(1)) * scale,  # type: ignore[union-attr]
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",  # type: ignore[dict-item]
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sends", type=int, default=200)
    parser.add_argument("--no-sync-commit", action="store_true")
    args = parser.parse_args()
    if args.no_sync_commit:
        os.environ["TIDINGS_TRACKING_SYNCHRONOUS_COMMIT"] = "false"
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed for the HTTP load: apt-get install wrk")

    url = database_url("tidings_bench_clicks")
    fresh_database(url).dispose()
    account = migrate_and_account(url)
    paths = prepare(url, account["account_id"], args.sends)
    forged = [p[:-4] + "AAAA" for p in paths[:50]]

    port = free_port()
    server = serve(url, port, processes=2, workers=0)
    target = f"http://127.0.0.1:{port}"
    try:
        first = httpx.get(target + paths[0], follow_redirects=False)
        assert first.status_code == 302, first.status_code
        assert httpx.get(target + forged[0], follow_redirects=False).status_code == 404
        time.sleep(1)
        health = run_wrk(target, ["/healthz"], args.seconds, args.connections)
        time.sleep(2)
        refused = run_wrk(target, forged, args.seconds, args.connections)
        time.sleep(2)
        cpu = CpuMeter(server.pid)
        clicks = run_wrk(target, paths, args.seconds, args.connections)
        server_cpu, database_cpu = cpu.read()
    finally:
        server.terminate()
        server.wait(15)

    domains.install()  # the job handlers, for the worker below
    answered = 1 + clicks["requests"] + clicks["warmup_requests"] - clicks["errors"]
    db = Database(Settings(database_url=url))
    started = time.monotonic()
    with db.write() as session:
        hits = session.execute(text("SELECT count(*) FROM tracking_hits")).scalar_one()
    drain(db, max_rounds=100_000)
    processing = time.monotonic() - started
    with db.read() as session:
        events = session.execute(
            text(
                "SELECT count(*) FROM events e JOIN metrics m ON m.account_id = e.account_id AND m.id = e.metric_id"
                " WHERE m.name = 'Clicked Email'"
            )
        ).scalar_one()
        left = session.execute(text("SELECT count(*) FROM tracking_hits")).scalar_one()
        clicked = session.execute(
            text("SELECT count(*) FROM message_sends WHERE clicked_at IS NOT NULL")
        ).scalar_one()
    db.dispose()

    load = os.getloadavg()[0]
    commit = "off" if args.no_sync_commit else "on"
    print(
        f"machine: {machine()}; wrk -t2 -c{args.connections}, {args.seconds} s after a 2 s warm-up; "
        f"synchronous_commit {commit}; load average {load:.1f}"
    )
    print(f"{'what':<44} {'requests/s':>11} {'p99 ms':>8} {'non-3xx':>8}")
    for name, figures in (
        ("GET /t/c/<token> (302, hit committed)", clicks),
        ("baseline: same route, unsigned token (404)", refused),
        ("baseline: GET /healthz (one DB round trip)", health),
    ):
        print(f"{name:<44} {figures['rps']:>11,.0f} {figures['p99_ms']:>8.2f} {figures['errors']:>8}")
    print(
        f"redirects / unsigned 404: {clicks['rps'] / refused['rps']:.0%}; "
        f"redirects / healthz: {clicks['rps'] / health['rps']:.0%}"
    )
    print(
        f"CPU a redirect: server {server_cpu / clicks['requests'] * 1e6:.0f} us, "
        f"PostgreSQL {database_cpu / clicks['requests'] * 1e6:.0f} us"
    )
    print(
        f"answered redirects {answered:,}; hits committed {hits:,}; Clicked Email events {events:,} "
        f"({processing:.1f} s to process, {events / max(processing, 1e-9):,.0f} events/s); hits left {left}; "
        f"sends with clicked_at {clicked}"
    )
    if clicks["socket_errors"]:
        print(f"wrk socket errors: {clicks['socket_errors']}")
    # wrk stops counting at its deadline: a request the server answered after it is a hit too.
    ok = events == hits and events >= answered
    print(
        "none lost: every answered redirect is one event"
        if ok
        else "MISMATCH: hits, events and answers differ"
    )


if __name__ == "__main__":
    main()
