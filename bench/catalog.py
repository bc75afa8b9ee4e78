"""Benchmark: `tidings catalog sync` of a generated 100,000-product feed on PostgreSQL.

Prints products/s for the first sync (every item and variant created), for a re-sync of the
same feed (nothing changes), for a sync where 10% of the products change price and inventory
(price drops, some back in stock: updates plus history rows) and for one where every price
changes, next to COPY of the same item and variant rows into plain tables on the same
database, as a ratio. A database whose name starts with `tidings_bench` is dropped and
created again first, so every run starts from empty tables.

    TIDINGS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/tidings_bench \\
        .venv/bin/python bench/catalog.py [--products 100000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/tidings_bench"


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def fresh_database(url: str) -> None:
    """An empty bench database (one named tidings_bench*; any other is only created if missing)."""
    parsed = make_url(url)
    admin = dsn(parsed.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        if str(parsed.database).startswith("tidings_bench"):
            conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone():
            conn.execute(f'CREATE DATABASE "{parsed.database}"')


def write_feed(
    path: Path, products: int, *, price_delta: float = 0.0, inventory_delta: int = 0, every: int = 1
) -> None:
    """A JSON feed: each product has one variant with inventory, two categories and metadata.
    The deltas apply to every `every`-th product (from the first)."""
    with path.open("w") as out:
        out.write("[")
        for n in range(products):
            changed = n % every == 0
            record = {
                "id": f"P{n:07d}",
                "title": f"Product {n}",
                "description": f"The description of product {n}, long enough to look like one.",
                "link": f"https://shop.example.com/products/{n}",
                "price": round(10 + (n % 500) * 0.37 + (price_delta if changed else 0.0), 2),
                "image_link": f"https://cdn.example.com/{n}.jpg",
                "categories": [f"Department {n % 20}", f"Brand {n % 300}"],
                "brand": f"Brand {n % 300}",
                "color": ["red", "blue", "green"][n % 3],
                "inventory_quantity": n % 40 + (inventory_delta if changed else 0),
            }
            out.write(("," if n else "") + json.dumps(record))
        out.write("]")


def backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend of the bench database (same machine)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    with psycopg.connect(dsn(url)) as conn:
        me = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s", (me,)
        ).fetchall()
    for (pid,) in rows:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def run_sync(url: str, account: str, feed: Path) -> dict:
    """The real command, in this process; also the CPU time it and its database backends used."""
    from typer.testing import CliRunner

    from tidings.cli import app

    server_before = backend_cpu(url)
    client_before = time.process_time()
    result = CliRunner().invoke(app, ["catalog", "sync", str(feed), "--account", account, "--json"])
    if result.exit_code != 0:
        raise SystemExit(f"sync failed: {result.output}")
    summary = json.loads(result.output.strip().splitlines()[-1])
    summary["client_cpu"] = time.process_time() - client_before
    server_after = backend_cpu(url)
    summary["server_cpu"] = sum(cpu - server_before.get(pid, 0.0) for pid, cpu in server_after.items())
    gc.collect()  # close the command's connection pool before the next run
    return summary


def copy_baseline(url: str, account: str, products: int) -> float:
    """COPY the same item and variant rows into plain tables (no keys, no indexes)."""
    with psycopg.connect(dsn(url)) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_items, bench_variants")
        conn.execute(
            "CREATE TABLE bench_items (account_id text, id text, external_id text, title text,"
            " description text, url text, price float8, image_full_url text, images jsonb,"
            " custom_metadata jsonb, published bool, created timestamptz, updated timestamptz)"
        )
        conn.execute(
            "CREATE TABLE bench_variants (account_id text, id text, external_id text, item_id text,"
            " title text, description text, sku text, inventory_policy int, inventory_quantity float8,"
            " price float8, url text, published bool, created timestamptz, updated timestamptz)"
        )
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            with cur.copy("COPY bench_items FROM STDIN") as copy:
                for n in range(products):
                    ext = f"P{n:07d}"
                    copy.write_row((
                        account, "$custom:::$default:::" + ext, ext, f"Product {n}",
                        f"The description of product {n}, long enough to look like one.",
                        f"https://shop.example.com/products/{n}", 10 + (n % 500) * 0.37,
                        f"https://cdn.example.com/{n}.jpg", None,
                        json.dumps({"brand": f"Brand {n % 300}", "color": "red"}), True, "now", "now",
                    ))  # fmt: skip
            with cur.copy("COPY bench_variants FROM STDIN") as copy:
                for n in range(products):
                    ext = f"P{n:07d}"
                    copy.write_row((
                        account, "$custom:::$default:::" + ext, ext, "$custom:::$default:::" + ext,
                        f"Product {n}", "d", ext, 0, n % 40, 10 + (n % 500) * 0.37,
                        f"https://shop.example.com/products/{n}", True, "now", "now",
                    ))  # fmt: skip
        conn.commit()
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_items, bench_variants")
        conn.commit()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=100_000)
    args = parser.parse_args()
    url = os.environ.get("TIDINGS_BENCH_DATABASE_URL", DEFAULT_URL)
    fresh_database(url)
    os.environ["TIDINGS_DATABASE_URL"] = url
    from tidings.accounts import service as accounts
    from tidings.accounts.schemas import AccountCreate
    from tidings.config import get_settings
    from tidings.db.migrate import upgrade
    from tidings.db.session import Database

    get_settings.cache_clear()
    db = Database(get_settings())
    upgrade(db.engine)
    with db.write() as session:
        account = accounts.create_account(session, AccountCreate(name="Catalog bench")).id
    db.dispose()

    n = args.products
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "feed.json"
        write_feed(feed, n)
        tenth = Path(tmp) / "feed-10-percent.json"
        # Every 10th product: the price drops by 1.00, the inventory grows by 7 (back in stock
        # for those at 0): 3 history rows each (item price, variant price and inventory).
        write_feed(tenth, n, price_delta=-1.0, inventory_delta=7, every=10)
        changed = Path(tmp) / "feed-changed.json"
        write_feed(changed, n, price_delta=1.0)
        size_mb = feed.stat().st_size / 1e6
        runs = [
            ("first sync (create)", run_sync(url, account, feed)),
            ("same feed again", run_sync(url, account, feed)),
            ("10% price+inventory", run_sync(url, account, tenth)),
            ("every price changed", run_sync(url, account, changed)),
        ]
    baseline = copy_baseline(url, account, n)
    load_after = os.getloadavg()

    print(
        f"catalog sync of {n:,} products ({size_mb:.0f} MB JSON, a variant, two categories each), PostgreSQL"
    )
    for label, result in runs:
        rate = n / result["seconds"]
        client_us = result["client_cpu"] / n * 1e6
        server_us = result["server_cpu"] / n * 1e6
        print(
            f"  {label:22s} {result['seconds']:7.2f} s  {rate:9,.0f} products/s   "
            f"ratio to COPY: {result['seconds'] / baseline:5.1f}x   "
            f"CPU per product: {client_us:4.0f} us Tidings + {server_us:4.0f} us PostgreSQL"
        )
    print(
        f"  {'COPY baseline':22s} {baseline:7.2f} s  {n / baseline:9,.0f} products/s (items+variants, plain)"
    )
    print(
        f"  (load average {load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end,"
        f" on {os.cpu_count()} cores)"
    )
    first, again, tenth_run, prices = (result for _label, result in runs)
    assert first["items_created"] == n and first["variants_created"] == n, first
    assert again["items_unchanged"] == n and again["variants_unchanged"] == n, again
    assert tenth_run["items_updated"] == n // 10 + (n % 10 > 0), tenth_run
    assert tenth_run["variants_updated"] == tenth_run["items_updated"], tenth_run
    assert prices["items_updated"] == n, prices


if __name__ == "__main__":
    main()
