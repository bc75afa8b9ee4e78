"""A campaign to a segment of every profile (PostgreSQL): recipient estimation, and the send's
recipients planned into the ledger, next to a plain `INSERT ... SELECT` of the same rows.

    python bench/campaign.py [--profiles 1000000]

Setup (not measured): the profiles and the segment's members by COPY, an email campaign with a
template whose audience is that segment. Measured:
- estimation: `campaigns.estimation.estimate` (the job behind
  `refresh_campaign_recipient_estimation`): one count of the audience's profiles who may
  receive email marketing;
- planning: `campaigns.sending.plan_recipients` (the job `campaigns.send`, after
  `send_campaign`), in its own transaction: the audience into `message_sends`, one row per
  profile, then the count of rows planned and the status change;
- the baselines: the same columns from the same segment members inserted with a plain
  `INSERT ... SELECT` into an unindexed copy of the ledger (the floor for writing those rows)
  and into a copy with the ledger's indexes (what the same rows cost where they live).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time

from _common import ROOT, database_url, fresh_database, machine
from sqlalchemy import text

sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    args = parser.parse_args()

    from tidings import domains
    from tidings.accounts import service as accounts
    from tidings.accounts.schemas import AccountCreate
    from tidings.campaigns import estimation, schemas, sending, service
    from tidings.campaigns.tables import CampaignMessage
    from tidings.config import Settings
    from tidings.db.ids import ulid
    from tidings.db.migrate import upgrade
    from tidings.db.session import Database

    url = database_url("tidings_bench_campaign")
    fresh_database(url).dispose()
    domains.install()
    db = Database(Settings(database_url=url))
    upgrade(db.engine)
    with db.write() as session:
        account_id = accounts.create_account(session, AccountCreate(name="Bench")).id
    segment_id = "SEGALL"
    print(f"machine: {machine()}; load average before: {os.getloadavg()[0]:.2f}")
    print(f"copying {args.profiles:,} profiles and segment members ...", flush=True)
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        profiles, members = io.StringIO(), io.StringIO()
        stamp = "2026-12-06 00:00:00+00"
        for n in range(args.profiles):
            profile_id = ulid()
            profiles.write(f"{account_id}\t{profile_id}\treader{n}@example.com\t{{}}\t{stamp}\t{stamp}\n")
            members.write(f"{account_id}\t{segment_id}\t{profile_id}\t{stamp}\n")
        cursor.execute(
            "INSERT INTO segments (account_id, id, name, definition, is_active, is_starred, is_processing,"
            " created, updated) VALUES (%s, %s, 'Everyone', '{}', true, false, false, now(), now())",
            (account_id, segment_id),
        )
        with cursor.copy(  # type: ignore[attr-defined]
            "COPY profiles (account_id, id, email, properties, created, updated) FROM STDIN"
        ) as copy:
            copy.write(profiles.getvalue())
        with cursor.copy(  # type: ignore[attr-defined]
            "COPY segment_members (account_id, segment_id, profile_id, joined_group_at) FROM STDIN"
        ) as copy:
            copy.write(members.getvalue())
        raw.commit()
    finally:
        raw.close()
    with db.write() as session:
        session.execute(text("ANALYZE profiles"))
        session.execute(text("ANALYZE segment_members"))
        body = {
            "data": {
                "type": "campaign",
                "attributes": {
                    "name": "Everyone",
                    "audiences": {"included": [segment_id]},
                    "send_options": {"use_smart_sending": False},
                    "campaign-messages": {
                        "data": [
                            {
                                "type": "campaign-message",
                                "attributes": {
                                    "definition": {
                                        "channel": "email",
                                        "content": {"subject": "News", "from_email": "news@bench.example"},
                                    }
                                },
                            }
                        ]
                    },
                },
            }
        }
        campaign = service.create_campaign(session, account_id, schemas.parse(schemas.CampaignCreate, body))
        campaign_id = campaign.id
        message = (
            session.query(CampaignMessage).filter_by(account_id=account_id, campaign_id=campaign_id).one()
        )
        message.template_html = "<p>Hello {{ first_name|default:'reader' }}</p>"
        message_id = message.id

    started = time.perf_counter()
    with db.write() as session:
        estimation.request_estimation(session, account_id, campaign_id)
    with db.write() as session:
        estimation.estimate(session, account_id, campaign_id)
    estimate_seconds = time.perf_counter() - started
    with db.read() as session:
        estimated = estimation.get_estimation(session, account_id, campaign_id).estimated_recipient_count

    with db.write() as session:
        sending.request_send(session, account_id, campaign_id)
    started = time.perf_counter()
    with db.write() as session:
        sending.plan_recipients(session, account_id, campaign_id)
    plan_seconds = time.perf_counter() - started
    with db.read() as session:
        job = sending.get_send_job(session, account_id, campaign_id)
        planned, status = (
            job.recipients,
            session.execute(
                text("SELECT status FROM campaigns WHERE id = :c"), {"c": campaign_id}
            ).scalar_one(),
        )

    def plain_insert(table: str) -> float:
        started = time.perf_counter()
        with db.write() as session:
            session.execute(
                text(
                    f"INSERT INTO {table} (account_id, id, idempotency_key, channel, profile_id, source_kind, "
                    "source_id, status, attempts, resends, message_id, created, planned_for) "
                    "SELECT account_id, profile_id, 'c:M1:' || profile_id, 'email', profile_id, "
                    "'campaign_message', 'M1', 'planned', 0, 0, '<' || lower(profile_id) || '@bench.example>', "
                    "now(), now() FROM segment_members WHERE account_id = :a AND segment_id = :s"
                ),
                {"a": account_id, "s": segment_id},
            )
        return time.perf_counter() - started

    with db.write() as session:
        session.execute(text("CREATE TABLE plain_sends (LIKE message_sends INCLUDING DEFAULTS)"))
        session.execute(text("CREATE TABLE indexed_sends (LIKE message_sends INCLUDING ALL)"))
    plain = plain_insert("plain_sends")
    indexed = plain_insert("indexed_sends")
    db.dispose()
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"estimation: {estimated:,} recipients estimated in {estimate_seconds:.2f} s (target <= 2 s)")
    print(
        f"planning (campaigns.send): {planned:,} recipients planned in {plan_seconds:.1f} s "
        f"({planned / plan_seconds:,.0f} rows/s; campaign {status!r}; message {message_id}; target <= 30 s)"
    )
    print(f"baseline (plain INSERT ... SELECT, no indexes, no conflict check): {plain:.1f} s")
    print(f"baseline into a copy of the ledger with its indexes: {indexed:.1f} s")
    print(
        f"ratio: {plan_seconds / plain:.2f}x the plain baseline, {plan_seconds / indexed:.2f}x the indexed one"
    )


if __name__ == "__main__":
    main()
