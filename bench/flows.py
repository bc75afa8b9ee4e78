"""Flow runs due at the same instant, advanced and their messages handed to the ledger
(PostgreSQL), next to a plain set-based UPDATE of the runs and INSERT of the ledger rows.

    python bench/flows.py [--runs 1000000] [--batch 2000]

Setup (not measured): the profiles and the runs by COPY: every run entered (visit 1), at a live
send-email action followed by a 3-day delay, all due at the same past instant. Measured: the
executor (`tidings.flows.executor.advance`, the work of the `flows.advance` job) called batch
after batch, each batch its own transaction, until nothing is due: each run goes through the
checks before a message (the flow filter: one query per batch), gets its ledger row
(insert-if-absent on its key), is traced, and waits at the delay. The baseline: one UPDATE of
a copy of the runs (action and due time) and one INSERT ... SELECT of the same ledger rows into
a copy of the ledger with its indexes.
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
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()

    from tidings import domains
    from tidings.accounts import service as accounts
    from tidings.accounts.schemas import AccountCreate
    from tidings.config import Settings
    from tidings.db.ids import ulid
    from tidings.db.migrate import upgrade
    from tidings.db.session import Database
    from tidings.flows import executor
    from tidings.flows import service as flows

    url = database_url("tidings_bench_flows")
    fresh_database(url).dispose()
    domains.install()
    db = Database(Settings(database_url=url))
    upgrade(db.engine)
    with db.write() as session:
        account_id = accounts.create_account(session, AccountCreate(name="Bench")).id
        definition = {
            "triggers": [{"type": "list", "id": "BENCH1"}],
            "entry_action_id": "e",
            "actions": [
                {
                    "temporary_id": "e",
                    "type": "send-email",
                    "links": {"next": "d"},
                    "data": {
                        "status": "draft",
                        "message": {"subject_line": "Hi", "from_email": "f@bench.example"},
                    },
                },
                {"temporary_id": "d", "type": "time-delay", "links": {"next": None}, "data": {"value": 3}},
            ],
        }
        session.execute(
            text(
                "INSERT INTO lists (account_id, id, name, opt_in_process, created, updated)"
                " VALUES (:a, 'BENCH1', 'B', 'single_opt_in', now(), now())"
            ),
            {"a": account_id},
        )
        flow = flows.create_flow(session, account_id, "Bench", definition)
        flows.update_status(session, account_id, flow.id, "live")
        flow_id, email_action = flow.id, flow.definition["entry_action_id"]
    print(f"machine: {machine()}; load average before: {os.getloadavg()[0]:.2f}")
    print(f"copying {args.runs:,} profiles and runs ...", flush=True)
    stamp = "2026-12-06 00:00:00+00"
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        profiles, runs = io.StringIO(), io.StringIO()
        for n in range(args.runs):
            profile_id, run_id = ulid(), ulid()
            profiles.write(f"{account_id}\t{profile_id}\treader{n}@example.com\t{{}}\t{stamp}\t{stamp}\n")
            runs.write(
                f"{account_id}\t{run_id}\t{flow_id}\t{profile_id}\tlist\tL\tactive\t{email_action}\t"
                f"{stamp}\t1\t{stamp}\t{stamp}\n"
            )
        with cursor.copy(  # type: ignore[attr-defined]
            "COPY profiles (account_id, id, email, properties, created, updated) FROM STDIN"
        ) as copy:
            copy.write(profiles.getvalue())
        with cursor.copy(  # type: ignore[attr-defined]
            "COPY flow_runs (account_id, id, flow_id, profile_id, trigger_kind, trigger_key, status,"
            " action_id, due_at, visit, started_at, updated_at) FROM STDIN"
        ) as copy:
            copy.write(runs.getvalue())
        cursor.execute(
            "INSERT INTO list_members (account_id, list_id, profile_id, joined_group_at)"
            " SELECT account_id, 'BENCH1', id, created FROM profiles WHERE account_id = %s",
            (account_id,),
        )
        cursor.execute("CREATE TABLE plain_runs AS SELECT * FROM flow_runs")
        raw.commit()
    finally:
        raw.close()
    with db.write() as session:
        for table in ("profiles", "flow_runs", "list_members", "plain_runs"):
            session.execute(text(f"ANALYZE {table}"))

    started = time.perf_counter()
    advanced = batches = 0
    while True:
        with db.write() as session:
            claimed = executor.advance(session, limit=args.batch)
        if not claimed:
            break
        advanced += claimed
        batches += 1
    seconds = time.perf_counter() - started
    with db.read() as session:
        planned = session.execute(
            text("SELECT count(*) FROM message_sends WHERE account_id = :a AND source_kind = 'flow_action'"),
            {"a": account_id},
        ).scalar_one()
        waiting = session.execute(
            text("SELECT count(*) FROM flow_runs WHERE status = 'waiting'"),
        ).scalar_one()

    with db.write() as session:
        session.execute(text("CREATE TABLE plain_sends (LIKE message_sends INCLUDING ALL)"))
    started = time.perf_counter()
    with db.write() as session:
        session.execute(
            text(
                "UPDATE plain_runs SET status = 'waiting', visit = visit + 1, "
                "due_at = now() + interval '3 days', updated_at = now()"
            )
        )
        session.execute(
            text(
                "INSERT INTO plain_sends (account_id, id, idempotency_key, channel, profile_id, source_kind, "
                "source_id, run_id, visit, status, attempts, resends, message_id, created, planned_for) "
                "SELECT account_id, id, 'f:' || action_id || ':' || id || ':' || '1', 'email', profile_id, "
                "'flow_action', action_id, id, 1, 'planned', 0, 0, '<' || lower(id) || '@bench.example>', "
                "now(), now() FROM plain_runs"
            )
        )
    plain = time.perf_counter() - started
    db.dispose()
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(
        f"executor (flows.advance): {advanced:,} runs advanced in {batches} batches of {args.batch} in "
        f"{seconds:.1f} s ({advanced / seconds:,.0f} runs/s); {planned:,} ledger rows planned, "
        f"{waiting:,} runs waiting at the delay (issue target for 1,000,000: <= 60 s)"
    )
    print(
        f"baseline (one UPDATE of the runs + one INSERT ... SELECT into an indexed ledger copy): {plain:.1f} s"
    )
    print(f"ratio: {seconds / plain:.2f}x the plain set-based statements")


if __name__ == "__main__":
    main()
