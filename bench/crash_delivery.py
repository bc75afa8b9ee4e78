"""Crash safety of delivery: SIGKILL the delivery worker again and again while it sends, restart
it, and count what the recipients got. Email: every message delivered, duplicates no more than
the messages in flight at the kills, each duplicate byte-identical with the same Message-ID.
SMS: no duplicates at all; the ambiguous ones are `unknown` in the ledger.

    python bench/crash_delivery.py [--database-url URL] [--messages 5000] [--kills 5] [--channel email|sms]

The recipients are local sinks in their own processes, which write each message to a log and
fsync it before they answer: an SMTP server (aiosmtpd) for email, a Twilio-compatible HTTP
server for SMS. The worker is `tidings worker --concurrency 0 --delivery 1`; between a kill and
the restart this script runs the janitor as if the lease had run out (in production the
`delivery.janitor` job does so every 30 seconds). Without --database-url it uses PostgreSQL
(TIDINGS_BENCH_DATABASE_URL, default the local server's `tidings_bench_crash_delivery`,
recreated). The test suite runs a small version (tests/delivery/test_crash.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 8
LEASE_SECONDS = 5.0


@dataclass
class CrashResult:
    channel: str
    messages: int = 0
    kills: int = 0
    in_flight_at_kills: list[int] = field(default_factory=list)  # `sending` rows after each kill
    bound: int = 0  # Σ min(in flight, connections): the most duplicates the design allows
    delivered: int = 0  # distinct messages the sink got
    missing: int = 0  # ledger rows the sink never got (email: must be 0)
    duplicates: int = 0  # extra copies the sink got
    differing: int = 0  # duplicates whose bytes differ from the first copy (must be 0)
    unknown: int = 0  # rows the ledger lists as delivery unknown (SMS)
    resends: int = 0  # the ledger's count of resent email
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


# ---------------------------------------------------------------------- sinks (own processes)


def run_smtp_sink(port: int, log_path: str) -> None:
    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self) -> None:
            self.log = open(log_path, "a", buffering=1)  # noqa: SIM115

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            content = envelope.original_content or envelope.content
            found = re.search(rb"^Message-ID:\s*(\S+)", content, re.MULTILINE | re.IGNORECASE)
            line = {
                "mid": found.group(1).decode() if found else None,
                "rcpt": envelope.rcpt_tos,
                "sha": hashlib.sha256(content).hexdigest(),
            }
            self.log.write(json.dumps(line) + "\n")
            self.log.flush()
            os.fsync(self.log.fileno())
            return "250 2.0.0 Ok: queued"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    controller.start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


def run_sms_sink(port: int, log_path: str) -> None:
    out = open(log_path, "a", buffering=1)  # noqa: SIM115
    counter = iter(range(10**9))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            sid = f"SM{next(counter):032x}"
            line = {"to": form.get("To"), "body": form.get("Body"), "sha": hashlib.sha256(body).hexdigest()}
            out.write(json.dumps(line) + "\n")
            out.flush()
            os.fsync(out.fileno())
            answer = json.dumps({"sid": sid, "status": "queued", "to": form.get("To")}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            return None

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


# ---------------------------------------------------------------------- the run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def _env(database_url: str, channel: str, port: int, outbox: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TIDINGS_DATABASE_URL": database_url,
        "TIDINGS_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
        "TIDINGS_DELIVERY_BATCH": "100",
        "TIDINGS_LOG_LEVEL": "WARNING",
        "TIDINGS_OUTBOX_DIR": outbox,
        "TIDINGS_JOB_POLL_INTERVAL": "0.1",
    }
    if channel == "email":
        env.update(
            TIDINGS_EMAIL_PROVIDER="smtp",
            TIDINGS_SMTP_URL=f"smtp://127.0.0.1:{port}",
            TIDINGS_SMTP_MAX_CONNECTIONS=str(CONNECTIONS),
        )
    else:
        env.update(
            TIDINGS_SMS_PROVIDER="twilio",
            TIDINGS_TWILIO_API_URL=f"http://127.0.0.1:{port}",
            TIDINGS_TWILIO_ACCOUNT_SID="AC" + "0" * 32,
            TIDINGS_TWILIO_AUTH_TOKEN="crash-test-token",
            TIDINGS_TWILIO_FROM="+15005550006",
        )
    return env


def _tidings() -> list[str]:
    return [sys.executable, "-c", "from tidings.cli import app; app()"]


def prepare(database_url: str, channel: str, messages: int) -> str:
    """Migrate, make an account and `messages` profiles each with one transactional message."""
    sys.path.insert(0, str(ROOT))
    from tidings import domains
    from tidings.accounts import service as accounts
    from tidings.accounts.schemas import AccountCreate
    from tidings.config import Settings
    from tidings.consent import service as consent
    from tidings.consent.policy import Channel as ConsentChannel
    from tidings.consent.policy import Purpose
    from tidings.db.migrate import upgrade
    from tidings.db.session import Database
    from tidings.delivery.messages import EmailDefinition, SmsDefinition
    from tidings.delivery.transactional import send_message
    from tidings.profiles.service import create_profile

    domains.install()
    db = Database(Settings(database_url=database_url))
    upgrade(db.engine)
    with db.write() as session:
        account_id = accounts.create_account(session, AccountCreate(name="Crash test")).id
    definition: Any
    if channel == "email":
        definition = EmailDefinition(
            transactional=True,
            smart_sending=False,
            subject="Your order {{ first_name }}",
            html="<html><body><p>Hello {{ first_name }}, here is order {{ person.order }}.</p></body></html>",
            from_email="shop@example.com",
        )
    else:
        definition = SmsDefinition(
            # The account's id in the body: the sink may also receive other accounts' SMS (a
            # shared test database), and only this run's messages are counted.
            transactional=True,
            smart_sending=False,
            body="Code for {{ first_name }}: 1234 (" + account_id + ")",
        )
    for start in range(0, messages, 500):
        with db.write() as session:
            for n in range(start, min(messages, start + 500)):
                attributes: dict[str, Any] = {"email": f"p{n}@example.com", "first_name": f"P{n}"}
                if channel == "sms":
                    attributes["phone_number"] = (
                        f"+1617555{n:04d}" if n < 10000 else f"+1508555{n - 10000:04d}"
                    )
                profile = create_profile(session, account_id, attributes).profile
                if channel == "sms":
                    consent.subscribe(
                        session, account_id, profile.id, ConsentChannel.SMS, Purpose.TRANSACTIONAL
                    )
                send_message(
                    session, account_id, profile_id=profile.id, definition=definition, key=f"crash-{n}"
                )
    db.dispose()
    return account_id


def _counts(database_url: str, account_id: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT status, count(*) FROM message_sends WHERE account_id = :a GROUP BY status"),
            {"a": account_id},
        ).all()
    engine.dispose()
    return {status: count for status, count in rows}


def _janitor(database_url: str) -> None:
    """What the periodic job does once the leases of the killed worker have run out."""
    from tidings.config import Settings
    from tidings.db.base import utcnow
    from tidings.db.session import Database
    from tidings.delivery import service

    db = Database(Settings(database_url=database_url))
    with db.write() as session:
        while True:
            report = service.janitor(session, now=utcnow() + dt.timedelta(seconds=LEASE_SECONDS + 1))
            if not report.resent and not report.unknown:
                break
    db.dispose()


def run(
    database_url: str, *, messages: int, kills: int, channel: str = "email", seed: int = 7
) -> CrashResult:
    result = CrashResult(channel, messages=messages)
    rng = random.Random(seed)
    account_id = prepare(database_url, channel, messages)
    workdir = Path(tempfile.mkdtemp(prefix="tidings-crash-"))
    sink_log = workdir / "sink.jsonl"
    port = _free_port()
    mode = "--smtp-sink" if channel == "email" else "--sms-sink"
    sink = subprocess.Popen([sys.executable, __file__, mode, str(port), str(sink_log)], cwd=ROOT)
    _wait_port(port)
    env = _env(database_url, channel, port, str(workdir / "outbox"))
    command = [*_tidings(), "worker", "--concurrency", "0", "--delivery", "1"]
    started = time.monotonic()
    try:
        for k in range(kills):
            worker = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
            # Kill it mid-stream: once it has sent its share, at a random moment after.
            target = messages * (k + 1) // (kills + 1)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and _counts(database_url, account_id).get("sent", 0) < target:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.05))
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            result.kills += 1
            in_flight = _counts(database_url, account_id).get("sending", 0)
            result.in_flight_at_kills.append(in_flight)
            result.bound += min(in_flight, CONNECTIONS)
            _janitor(database_url)
        worker = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + max(120.0, messages / 20)
        while time.monotonic() < deadline:
            counts = _counts(database_url, account_id)
            if not counts.get("planned") and not counts.get("sending"):
                break
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        result.seconds = time.monotonic() - started
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait(timeout=10)
    _tally(result, database_url, account_id, sink_log)
    return result


def _tally(result: CrashResult, database_url: str, account_id: str, sink_log: Path) -> None:
    from sqlalchemy import create_engine, text

    lines = [json.loads(line) for line in sink_log.read_text().splitlines() if line.strip()]
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT status, message_id, recipient, resends FROM message_sends WHERE account_id = :a"),
            {"a": account_id},
        ).all()
    engine.dispose()
    result.statuses = {}
    for status, *_ in rows:
        result.statuses[status] = result.statuses.get(status, 0) + 1
    result.unknown = result.statuses.get("unknown", 0)
    result.resends = sum(r[3] for r in rows)
    key = "mid" if result.channel == "email" else "to"
    # This run's messages only: the workers also deliver what other accounts left planned in a
    # shared database (an email by its Message-ID, an SMS by the account named in its body).
    if result.channel == "sms":
        lines = [line for line in lines if f"({account_id})" in (line.get("body") or "")]
    else:
        ours = {r[1] for r in rows}
        lines = [line for line in lines if line["mid"] in ours]
    copies: dict[str, list[str]] = {}
    for line in lines:
        copies.setdefault(line[key], []).append(line["sha"])
    result.delivered = len(copies)
    result.duplicates = sum(len(shas) - 1 for shas in copies.values())
    result.differing = sum(1 for shas in copies.values() if len(set(shas)) > 1)
    wanted = [r[1] if result.channel == "email" else r[2] for r in rows if r[0] in ("sent",)]
    result.missing = sum(1 for ident in wanted if ident not in copies)


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
    if len(sys.argv) == 4 and sys.argv[1] in ("--smtp-sink", "--sms-sink"):
        (run_smtp_sink if sys.argv[1] == "--smtp-sink" else run_sms_sink)(int(sys.argv[2]), sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--channel", choices=("email", "sms"), default="email")
    args = parser.parse_args()
    url = args.database_url or _fresh_database(
        os.environ.get(
            "TIDINGS_BENCH_DATABASE_URL",
            "postgresql+psycopg://postgres@127.0.0.1:5432/tidings_bench_crash_delivery",
        )
    )
    result = run(url, messages=args.messages, kills=args.kills, channel=args.channel)
    print(json.dumps(result.__dict__, indent=2))


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
