"""Where a delivery worker's CPU goes, an email at a time (a tool, not a figure to record).

    python bench/profile_delivery.py [--messages 5000] [--top 45]

It prepares what bench/delivery.py prepares (the same account, template, profiles and planned
sends, in PostgreSQL), starts the aiosmtpd sink in its own process, and runs one delivery
worker in this process under yappi with the CPU clock, so the breakdown stays meaningful on a
busy machine (wall time would not). It prints the CPU an email and the functions by inclusive
CPU an email. yappi is a profiling tool, not a dependency: `pip install yappi` first.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from _common import ROOT, database_url, free_port, fresh_database
from sqlalchemy import text

sys.path.insert(0, str(ROOT))

import delivery as bench  # bench/delivery.py: the same preparation and sink


def main() -> None:
    import yappi

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args()
    url = database_url("tidings_bench_delivery_profile")
    fresh_database(url).dispose()
    print(f"preparing {args.messages} profiles and planned sends ...", flush=True)
    account_id = bench.prepare(url, args.messages)
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, bench.__file__, "--sink", str(port), f"/tmp/tidings-profile-{os.getpid()}"]
    )
    time.sleep(1.0)
    os.environ.update(
        TIDINGS_DATABASE_URL=url,
        TIDINGS_LOG_LEVEL="WARNING",
        TIDINGS_EMAIL_PROVIDER="smtp",
        TIDINGS_SMTP_URL=f"smtp://127.0.0.1:{port}",
        TIDINGS_SMTP_MAX_CONNECTIONS="8",
        TIDINGS_PUBLIC_URL="https://t.bench.example",
    )
    from tidings import domains
    from tidings.config import Settings
    from tidings.db.session import Database
    from tidings.delivery.worker import DeliveryWorker

    domains.install()
    settings = Settings()
    db = Database(settings)
    worker = DeliveryWorker(db, settings)
    yappi.set_clock_type("cpu")
    yappi.start()
    started = time.process_time()
    worker.start()
    try:
        while True:
            time.sleep(0.2)
            with db.read() as session:
                left = session.execute(
                    text(
                        "SELECT count(*) FROM message_sends WHERE account_id = :a AND status IN ('planned', 'sending')"
                    ),
                    {"a": account_id},
                ).scalar_one()
            if not left:
                break
    finally:
        worker.stop()
        yappi.stop()
        sink.send_signal(signal.SIGTERM)
        sink.wait(timeout=30)
    cpu = time.process_time() - started
    with db.read() as session:
        sent = session.execute(
            text("SELECT count(*) FROM message_sends WHERE account_id = :a AND status = 'sent'"),
            {"a": account_id},
        ).scalar_one()
    db.dispose()
    print(
        f"{sent} emails sent; this process's CPU {cpu / max(sent, 1) * 1000:.2f} ms an email (with yappi's own cost)"
    )
    stats = yappi.get_func_stats()
    rows = sorted(stats, key=lambda s: s.ttot, reverse=True)
    shown = 0
    for stat in rows:
        module = stat.module or ""
        if "tidings" not in module and not any(
            lib in module for lib in ("aiosmtplib", "psycopg", "django", "dkim", "cryptography")
        ):
            continue
        where = module.split("site-packages/")[-1].split("/work/main/")[-1]
        print(
            f"{stat.ttot / max(sent, 1) * 1000:7.3f} ms incl {stat.tsub / max(sent, 1) * 1000:7.3f} ms self "
            f"{stat.ncall:>8}  {stat.name}  ({where}:{stat.lineno})"
        )
        shown += 1
        if shown >= args.top:
            break


if __name__ == "__main__":
    main()
