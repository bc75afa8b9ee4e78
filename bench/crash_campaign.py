"""Crash safety of a campaign send: SIGKILL the worker process (job workers and delivery worker)
again and again while a campaign is planned and sent, restart it, and count what the
recipients got: every recipient at least once, duplicates no more than the messages in flight
at the kills (one per SMTP connection, each the same bytes with the same Message-ID), and the
campaign ends `Sent`.

    python bench/crash_campaign.py [--database-url URL] [--recipients 100000] [--kills 5]

The campaign is sent through the service as `send_campaign` does (the job `campaigns.send` is
enqueued with the status change); the worker process `tidings worker --concurrency 1
--delivery 1` runs the planning, the deliveries and `campaigns.progress`. The first kill comes
while the recipients are being planned, when the audience is large enough for planning to take
a moment (that transaction is lost whole and planned again). The SMTP sink and the janitor
between kills are bench/crash_delivery.py's. The test suite runs a small version
(tests/campaigns/test_crash.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import crash_delivery  # noqa: E402  (the sinks, the environment)

LEASE_SECONDS = 60.0


@dataclass
class CampaignCrash:
    recipients: int = 0
    kills: int = 0
    in_flight_at_kills: list[int] = field(default_factory=list)
    bound: int = 0
    delivered: int = 0  # distinct recipients the sink got
    missing: int = 0  # recipients the sink never got
    duplicates: int = 0
    differing: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    campaign_status: str = ""
    seconds: float = 0.0


def prepare(database_url: str, recipients: int) -> tuple[str, str]:
    """Migrate; an account, `recipients` profiles in a list, an email campaign to it, sent."""
    from sqlalchemy import insert

    from tidings import domains
    from tidings.accounts import service as accounts
    from tidings.accounts.schemas import AccountCreate
    from tidings.campaigns import schemas, sending, service
    from tidings.campaigns.tables import CampaignMessage
    from tidings.config import Settings
    from tidings.db.ids import ulid
    from tidings.db.migrate import upgrade
    from tidings.db.session import Database
    from tidings.lists import service as lists
    from tidings.lists.tables import ListMember
    from tidings.profiles.tables import Profile

    domains.install()
    db = Database(Settings(database_url=database_url))
    upgrade(db.engine)
    with db.write() as session:
        account_id = accounts.create_account(session, AccountCreate(name="Crash campaign")).id
        list_id = lists.create_list(session, account_id, "Everyone", None).id
    now = dt.datetime.now(dt.UTC)
    for first in range(0, recipients, 5000):
        batch = [(ulid(), n) for n in range(first, min(recipients, first + 5000))]
        with db.write() as session:
            session.execute(
                insert(Profile.__table__),
                [
                    {
                        "account_id": account_id,
                        "id": pid,
                        "email": f"r{n}.{account_id.lower()}@example.com",
                        "first_name": f"R{n}",
                        "properties": {},
                        "created": now,
                        "updated": now,
                    }
                    for pid, n in batch
                ],
            )
            session.execute(
                insert(ListMember.__table__),
                [
                    {"account_id": account_id, "list_id": list_id, "profile_id": pid, "joined_group_at": now}
                    for pid, _n in batch
                ],
            )
    message = {"channel": "email", "content": {"subject": "Hello", "from_email": "news@shop.example"}}
    body = {
        "data": {
            "type": "campaign",
            "attributes": {
                "name": "Crash",
                "audiences": {"included": [list_id]},
                "send_options": {"use_smart_sending": False},
                "campaign-messages": {
                    "data": [{"type": "campaign-message", "attributes": {"definition": message}}]
                },
            },
        }
    }
    with db.write() as session:
        campaign = service.create_campaign(session, account_id, schemas.parse(schemas.CampaignCreate, body))
        row = session.query(CampaignMessage).filter_by(account_id=account_id, campaign_id=campaign.id).one()
        row.template_html = "<html><body><p>Hello {{ first_name }}</p></body></html>"
        session.flush()
        sending.request_send(session, account_id, campaign.id)
        campaign_id = campaign.id
    db.dispose()
    return account_id, campaign_id


def _janitor(database_url: str) -> None:
    """What the periodic janitor does once the killed worker's leases have run out."""
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


def _campaign_status(database_url: str, campaign_id: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM campaigns WHERE id = :c"), {"c": campaign_id}
        ).scalar_one()
    engine.dispose()
    return str(status)


def run(database_url: str, *, recipients: int, kills: int, seed: int = 11) -> CampaignCrash:
    result = CampaignCrash(recipients=recipients)
    rng = random.Random(seed)
    account_id, campaign_id = prepare(database_url, recipients)
    workdir = Path(tempfile.mkdtemp(prefix="tidings-crash-campaign-"))
    sink_log = workdir / "sink.jsonl"
    port = crash_delivery._free_port()
    sink = subprocess.Popen(
        [sys.executable, crash_delivery.__file__, "--smtp-sink", str(port), str(sink_log)]
    )
    crash_delivery._wait_port(port)
    env = crash_delivery._env(database_url, "email", port, str(workdir / "outbox"))
    env["TIDINGS_JOB_LEASE_SECONDS"] = "3"
    # Long enough that the periodic janitor the job worker runs never takes a live worker's rows
    # on a loaded machine; after a kill the leases are expired by hand (`_janitor`).
    env["TIDINGS_DELIVERY_LEASE_SECONDS"] = str(LEASE_SECONDS)
    command = [*crash_delivery._tidings(), "worker", "--concurrency", "1", "--delivery", "1"]
    started = time.monotonic()
    try:
        for k in range(kills):
            worker = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
            if k == 0:  # while planning (or just after, for a small audience)
                time.sleep(rng.uniform(0.5, 1.5))
            else:
                target = recipients * k // kills
                deadline = time.monotonic() + 300
                counts = crash_delivery._counts(database_url, account_id)
                while time.monotonic() < deadline and counts.get("sent", 0) < target:
                    time.sleep(0.02)
                    counts = crash_delivery._counts(database_url, account_id)
                time.sleep(rng.uniform(0.0, 0.05))
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            result.kills += 1
            in_flight = crash_delivery._counts(database_url, account_id).get("sending", 0)
            result.in_flight_at_kills.append(in_flight)
            result.bound += min(in_flight, crash_delivery.CONNECTIONS)
            _janitor(database_url)
        worker = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + max(180.0, recipients / 20)
        while time.monotonic() < deadline:
            if _campaign_status(database_url, campaign_id) == "Sent":
                break
            time.sleep(0.3)
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        result.seconds = time.monotonic() - started
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait(timeout=10)
    result.campaign_status = _campaign_status(database_url, campaign_id)
    _tally(result, database_url, account_id, sink_log)
    return result


def _tally(result: CampaignCrash, database_url: str, account_id: str, sink_log: Path) -> None:
    from sqlalchemy import create_engine, text

    lines = [json.loads(line) for line in sink_log.read_text().splitlines() if line.strip()]
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT status, p.email FROM message_sends s JOIN profiles p ON p.account_id = s.account_id "
                "AND p.id = s.profile_id WHERE s.account_id = :a"
            ),
            {"a": account_id},
        ).all()
        everyone = set(
            conn.execute(
                text("SELECT email FROM profiles WHERE account_id = :a"), {"a": account_id}
            ).scalars()
        )
    engine.dispose()
    for status, _email in rows:
        result.statuses[status] = result.statuses.get(status, 0) + 1
    copies: dict[str, list[str]] = {}
    for line in lines:
        for rcpt in line["rcpt"]:
            if rcpt in everyone:  # the worker also sends what other accounts of the database have due
                copies.setdefault(rcpt, []).append(line["sha"])
    result.delivered = len(copies)
    result.duplicates = sum(len(shas) - 1 for shas in copies.values())
    result.differing = sum(1 for shas in copies.values() if len(set(shas)) > 1)
    result.missing = sum(1 for email in everyone if email not in copies)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=5)
    args = parser.parse_args()
    url = args.database_url or crash_delivery._fresh_database(
        os.environ.get(
            "TIDINGS_BENCH_DATABASE_URL",
            "postgresql+psycopg://postgres@127.0.0.1:5432/tidings_bench_crash_campaign",
        )
    )
    result = run(url, recipients=args.recipients, kills=args.kills)
    print(json.dumps(result.__dict__, indent=2))


if __name__ == "__main__":
    main()
