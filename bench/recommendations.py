"""Benchmark: `{% recommended_products %}`'s ranking statement on an account with many orders.

Generates, with set-based SQL on PostgreSQL, a catalog of PRODUCTS items in 50 categories and
ORDERS `Placed Order` events (three items each, skewed towards popular products) by PROFILES
people over the last 120 days (so a quarter fall outside the 90-day window), plus as many
`Ordered Product` events; then times `recommend()` (ranking + items) for a sample of people,
with and without history, and prints the median and p95 per message. A database whose name
starts with `tidings_bench` is dropped and created again first.

    TIDINGS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/tidings_bench_recs \\
        .venv/bin/python bench/recommendations.py [--orders 200000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import database_url, fresh_database, machine, migrate_and_account  # noqa: E402
from tidings.catalogs.recommendations import build_snapshot, recommend, window_start  # noqa: E402
from tidings.db.base import utcnow  # noqa: E402

SEED = """
INSERT INTO metrics (account_id, id, name, integration_key, integration, created, updated) VALUES
  (:a, 'POrder', 'Placed Order', 'api', '{}', now(), now()),
  (:a, 'OProdt', 'Ordered Product', 'api', '{}', now(), now());
INSERT INTO catalog_items (account_id, id, external_id, title, description, url, published, created, updated)
  SELECT :a, '$custom:::$default:::P' || n, 'P' || n, 'Product ' || n, '', 'https://x/' || n, true, now(), now()
  FROM generate_series(0, :products - 1) n;
INSERT INTO catalog_categories (account_id, id, external_id, name, created, updated)
  SELECT :a, '$custom:::$default:::C' || n, 'C' || n, 'Category ' || n, now(), now()
  FROM generate_series(0, 49) n;
INSERT INTO catalog_item_categories (account_id, item_id, category_id)
  SELECT :a, '$custom:::$default:::P' || n, '$custom:::$default:::C' || (n % 50)
  FROM generate_series(0, :products - 1) n;
CREATE TEMP TABLE lines AS
  SELECT o, 'P' || floor(:products * power(random(), 3))::int AS product,
         'PR' || floor(random() * :profiles)::int AS profile
  FROM generate_series(1, :orders) o;
INSERT INTO events (account_id, id, metric_id, profile_id, time, properties, unique_id, backfill, source, received)
  SELECT :a, lpad(o::text, 26, '0'), 'POrder', profile,
         now() - random() * interval '120 days',
         jsonb_build_object('Items', jsonb_build_array(
            jsonb_build_object('ProductID', product),
            jsonb_build_object('ProductID', 'P' || floor(:products * power(random(), 3))::int),
            jsonb_build_object('ProductID', 'P' || floor(:products * random())::int))),
         'o' || o, false, 'api', now()
  FROM lines;
INSERT INTO events (account_id, id, metric_id, profile_id, time, properties, unique_id, backfill, source, received)
  SELECT :a, lpad((o + :orders)::text, 26, '0'), 'OProdt', profile, now() - random() * interval '120 days',
         jsonb_build_object('ProductID', product), 'p' || o, false, 'api', now()
  FROM lines;
ANALYZE events; ANALYZE catalog_items; ANALYZE catalog_item_categories;
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--products", type=int, default=5_000)
    parser.add_argument("--profiles", type=int, default=50_000)
    parser.add_argument("--sample", type=int, default=50)
    args = parser.parse_args()
    url = os.environ.get("TIDINGS_BENCH_DATABASE_URL") or database_url("tidings_bench_recs")
    engine = fresh_database(url)
    account = migrate_and_account(url)["account_id"]
    started = time.perf_counter()
    with engine.begin() as conn:
        for statement in SEED.split(";\n"):
            if statement.strip():
                conn.execute(
                    text(statement),
                    {
                        "a": account,
                        "orders": args.orders,
                        "products": args.products,
                        "profiles": args.profiles,
                    },
                )
    print(f"seeded {2 * args.orders:,} events in {time.perf_counter() - started:.1f} s  ({machine()})")
    timings: dict[str, list[float]] = {"with history": [], "no history": []}
    with Session(engine) as session:
        began = time.perf_counter()
        build_snapshot(session, account, window_start(utcnow()))
        session.commit()
        print(f"the day's snapshot of purchases: {time.perf_counter() - began:.1f} s")
        for n in range(args.sample):
            for label, profile in (("with history", f"PR{n * 7}"), ("no history", f"NEW{n}")):
                began = time.perf_counter()
                items = recommend(session, account, profile, 4)
                timings[label].append(time.perf_counter() - began)
                assert len(items) == 4, (profile, items)
    for label, values in timings.items():
        values.sort()
        p95 = values[int(0.95 * (len(values) - 1))]
        print(
            f"{label:>13}: median {statistics.median(values) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms per message"
        )


if __name__ == "__main__":
    main()
