"""Campaign reports: query_campaign_values over a large ledger, next to a plain baseline.

    TIDINGS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/tidings_bench_reporting \\
        .venv/bin/python bench/reporting.py [--sends 200000] [--campaigns 20] [--sqlite]

Loads, into the real tables of a fresh database (PostgreSQL by default, a SQLite file with
`--sqlite`): `--sends` campaign email deliveries over `--campaigns` campaign messages and the
last 30 days, with Klaviyo's message events as delivery writes them (an open for 40% of the
deliveries, a second open for half of those, a click for 8%, an unsubscribe for 0.5%) and
`Placed Order` events for 5% of the recipients. Then times the full report (all statistics,
conversions attributed by last touch) and a plain baseline: the two GROUP BYs that give only
recipients per message and opens per `$message`, with no linking or attribution. The tables
are ANALYZEd after the load, as autovacuum would (without statistics, PostgreSQL plans the
report's joins as if the ledger held one row).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import database_url, fresh_database, machine
from sqlalchemy import func, insert, select

from tidings import domains
from tidings.accounts import service as accounts
from tidings.accounts.schemas import AccountCreate
from tidings.config import Settings
from tidings.db.dialect import json_text, refresh_statistics
from tidings.db.ids import ulid
from tidings.db.migrate import upgrade
from tidings.db.session import Database
from tidings.delivery.tables import MessageSend
from tidings.events.metrics import API, KLAVIYO, MetricKey, ensure_metrics
from tidings.events.tables import Event
from tidings.reporting import service
from tidings.reporting.schemas import CampaignValuesAttributes
from tidings.reporting.sources import CAMPAIGNS

CHUNK = 5000


def _chunks(rows: list[dict[str, Any]]) -> Any:
    for i in range(0, len(rows), CHUNK):
        yield rows[i : i + CHUNK]


def load(db: Database, sends: int, campaigns: int) -> tuple[str, str, float]:
    rng = random.Random(7)
    with db.write() as session:
        account = accounts.create_account(session, AccountCreate(name="Bench", timezone="UTC"))
        account_id = account.id
        keys = {
            name: MetricKey(name, KLAVIYO)
            for name in ("Opened Email", "Clicked Email", "Unsubscribed from List")
        }
        order = MetricKey("Placed Order", API)
        ids = ensure_metrics(session, account_id, {*keys.values(), order})
    now = dt.datetime.now(dt.UTC)
    messages = [ulid() for _ in range(campaigns)]
    send_rows, event_rows = [], []

    def event(
        metric: str, profile: str, at: dt.datetime, properties: dict[str, Any], value: float | None = None
    ) -> None:
        event_rows.append(
            {
                "account_id": account_id,
                "id": ulid(),
                "metric_id": metric,
                "profile_id": profile,
                "time": at,
                "value": value,
                "properties": properties,
                "unique_id": ulid(),
                "backfill": False,
                "source": "internal",
                "received": at,
            }
        )

    for i in range(sends):
        message = messages[i % campaigns]
        profile = f"P{i // campaigns:025d}"[:26]
        at = now - dt.timedelta(seconds=rng.randint(3600, 29 * 86400))
        send_id = ulid()
        context = {"$message": message, "Campaign Name": "Bench", "$variation": message}
        roll = rng.random()
        opened = at + dt.timedelta(minutes=rng.randint(1, 600)) if roll < 0.4 else None
        clicked = opened + dt.timedelta(minutes=2) if opened and roll < 0.08 else None
        send_rows.append(
            {
                "account_id": account_id,
                "id": send_id,
                "idempotency_key": f"c:{message}:{profile}",
                "channel": "email",
                "profile_id": profile,
                "source_kind": "campaign_message",
                "source_id": message,
                "context": context,
                "status": "sent",
                "message_id": f"<{send_id}@bench>",
                "created": at,
                "planned_for": at,
                "sending_at": at,
                "finished_at": at,
                "opened_at": opened,
                "clicked_at": clicked,
                "attempts": 1,
                "resends": 0,
            }
        )
        if opened:
            event(ids[keys["Opened Email"]], profile, opened, context)
            if roll < 0.2:
                event(ids[keys["Opened Email"]], profile, opened + dt.timedelta(hours=3), context)
        if clicked:
            event(ids[keys["Clicked Email"]], profile, clicked, {**context, "Bot Click": False})
        if roll > 0.995:
            event(ids[keys["Unsubscribed from List"]], profile, at + dt.timedelta(hours=1), context)
        if rng.random() < 0.05:
            event(
                ids[order],
                profile,
                at + dt.timedelta(hours=rng.randint(1, 200)),
                {},
                float(rng.randint(5, 300)),
            )
    started = time.perf_counter()
    with db.write() as session:
        for rows in _chunks(send_rows):
            session.execute(insert(MessageSend.__table__), rows)
        for rows in _chunks(event_rows):
            session.execute(insert(Event.__table__), rows)
    with db.write() as session:  # what autovacuum does after a load (the test server runs none)
        refresh_statistics(session, MessageSend.__table__)  # type: ignore[arg-type]
        refresh_statistics(session, Event.__table__)  # type: ignore[arg-type]
    print(
        f"loaded {len(send_rows):,} sends and {len(event_rows):,} events in {time.perf_counter() - started:.1f} s"
    )
    return account_id, ids[order], len(event_rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sends", type=int, default=200_000)
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    if args.sqlite:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        print(url)
    else:
        url = database_url("tidings_bench_reporting")
        fresh_database(url).dispose()
    db = Database(Settings(database_url=url, workers=0, log_level="WARNING"))
    upgrade(db.engine)
    domains.install()
    account_id, order, _events = load(db, args.sends, args.campaigns)
    attrs = CampaignValuesAttributes.model_validate(
        {
            "statistics": [
                "recipients",
                "opens",
                "opens_unique",
                "clicks_unique",
                "conversions",
                "conversion_value",
            ],
            "timeframe": {"key": "last_30_days"},
            "conversion_metric_id": order,
        }
    )
    report_times, plain_times = [], []
    for _ in range(args.trials):
        with db.read() as session:
            started = time.perf_counter()
            report = service.values(session, account_id, CAMPAIGNS, attrs)
            report_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            sends = MessageSend.__table__
            list(
                session.execute(
                    select(sends.c.source_id, func.count())
                    .where(sends.c.account_id == account_id, sends.c.status == "sent")
                    .group_by(sends.c.source_id)
                )
            )
            events = Event.__table__
            key = json_text(session, events.c.properties, "$message")
            list(
                session.execute(
                    select(key, func.count()).where(events.c.account_id == account_id).group_by(key)
                )
            )
            plain_times.append(time.perf_counter() - started)
    total = sum(r["statistics"]["recipients"] for r in report.results)
    conversions = sum(r["statistics"]["conversions"] for r in report.results)
    best, plain = min(report_times), min(plain_times)
    print(f"machine: {machine()}; database: {'SQLite' if args.sqlite else 'PostgreSQL'}")
    print(
        f"report: {len(report.results)} messages, {total:,} recipients, {conversions:,} conversions attributed"
    )
    print(
        f"query_campaign_values: {best:.2f} s (best of {args.trials}); plain GROUP BYs: {plain:.2f} s; ratio {best / plain:.1f}x"
    )


if __name__ == "__main__":
    main()
