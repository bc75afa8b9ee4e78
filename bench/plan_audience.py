"""Planning an audience into the send ledger (PostgreSQL): `delivery.service.plan_many` for
every profile of an account, next to a plain `INSERT ... SELECT` of the same rows.

    python bench/plan_audience.py [--profiles 1000000]

What a campaign send does when it decides its recipients: one statement that writes a
`planned` row per distinct profile (its id and Message-ID made by the database, its key
`c:<message>:<profile>`, insert-if-absent). The baseline inserts the same columns from the same
select into an unindexed copy of the table with no conflict clause (the floor for writing those
rows), and into a copy with the ledger's indexes (what the same rows cost where they live). A second `plan_many` of the same audience (everyone already planned) shows the cost of
asking twice. Setup (the profiles, by COPY) is not measured.
"""

from __future__ import annotations

import argparse
import io
import sys
import time

from _common import ROOT, database_url, fresh_database, machine
from sqlalchemy import select, text

sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    args = parser.parse_args()

    from tidings import domains
    from tidings.accounts import service as accounts
    from tidings.accounts.schemas import AccountCreate
    from tidings.config import Settings
    from tidings.db.ids import ulid
    from tidings.db.migrate import upgrade
    from tidings.db.session import Database
    from tidings.delivery import service
    from tidings.delivery.service import CampaignMessageSource
    from tidings.delivery.tables import Channel
    from tidings.profiles.tables import Profile

    url = database_url("tidings_bench_plan")
    fresh_database(url).dispose()
    domains.install()
    db = Database(Settings(database_url=url))
    upgrade(db.engine)
    with db.write() as session:
        account_id = accounts.create_account(session, AccountCreate(name="Bench")).id
    print(f"machine: {machine()}")
    print(f"copying {args.profiles:,} profiles ...", flush=True)
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        buffer = io.StringIO()
        for n in range(args.profiles):
            buffer.write(
                f"{account_id}\t{ulid()}\treader{n}@example.com\t{{}}\t2026-12-06 00:00:00+00\t2026-12-06 00:00:00+00\n"
            )
        buffer.seek(0)
        with cursor.copy(
            "COPY profiles (account_id, id, email, properties, created, updated) FROM STDIN"
        ) as copy:  # type: ignore[attr-defined]
            copy.write(buffer.read())
        raw.commit()
    finally:
        raw.close()
    with db.write() as session:
        session.execute(text("ANALYZE profiles"))
    audience = select(Profile.id).where(Profile.account_id == account_id)

    def plain_insert(table: str) -> float:
        started = time.perf_counter()
        with db.write() as session:
            session.execute(
                text(
                    f"INSERT INTO {table} (account_id, id, idempotency_key, channel, profile_id, source_kind, "
                    "source_id, status, attempts, resends, message_id, created, planned_for) "
                    "SELECT account_id, id, 'c:M1:' || id, 'email', id, 'campaign_message', 'M1', 'planned', 0, 0, "
                    "'<' || lower(id) || '@bench.example>', now(), now() FROM profiles WHERE account_id = :a"
                ),
                {"a": account_id},
            )
        return time.perf_counter() - started

    with db.write() as session:
        session.execute(text("CREATE TABLE plain_sends (LIKE message_sends INCLUDING DEFAULTS)"))
        session.execute(text("CREATE TABLE indexed_sends (LIKE message_sends INCLUDING ALL)"))
    plain = plain_insert("plain_sends")
    indexed = plain_insert("indexed_sends")

    started = time.perf_counter()
    with db.write() as session:
        written = service.plan_many(
            session,
            account_id,
            source=CampaignMessageSource("M1"),
            profiles=audience,
            channel=Channel.EMAIL,
            domain="bench.example",
        )
    ours = time.perf_counter() - started

    started = time.perf_counter()
    with db.write() as session:
        again = service.plan_many(
            session,
            account_id,
            source=CampaignMessageSource("M1"),
            profiles=audience,
            channel=Channel.EMAIL,
            domain="bench.example",
        )
    repeat = time.perf_counter() - started
    db.dispose()
    print(f"plan_many: {written:,} rows planned in {ours:.1f} s ({written / ours:,.0f} rows/s)")
    print(f"baseline (plain INSERT ... SELECT, no indexes, no conflict check): {plain:.1f} s")
    print(f"baseline into a copy of the ledger with its indexes: {indexed:.1f} s")
    print(
        f"ratio: {ours / plain:.2f}x the plain baseline, {ours / indexed:.2f}x the indexed one; planning the same audience again: {again} rows in {repeat:.1f} s"
    )


if __name__ == "__main__":
    main()
