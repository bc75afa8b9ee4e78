"""`tidings catalog ...`: sync a product feed now, or schedule one per account.

The command is the unit-of-work boundary here: each batch of products commits on its own,
so a large feed never holds a long transaction, and re-running after an interruption
converges (the sync is idempotent).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from tidings.accounts import repository
from tidings.config import get_settings
from tidings.db.session import Database

if TYPE_CHECKING:
    from tidings.catalogs.feeds import Product
    from tidings.catalogs.sync import SyncSummary

app = typer.Typer(help="Catalogs: product feeds.", no_args_is_help=True)
feed_app = typer.Typer(help="A product feed synced on a schedule (one per account).", no_args_is_help=True)
app.add_typer(feed_app, name="feed")


def _db() -> Database:
    return Database(get_settings())


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _check_account(db: Database, account: str) -> None:
    with db.read() as session:
        if repository.get_account(session, account) is None:
            _fail(f"No account with id {account!r}.")


@app.command("sync")
def sync(
    source: Annotated[str, typer.Argument(help="A feed file, or an http(s) URL.")],
    account: Annotated[str, typer.Option(help="Account id.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="json or csv (default: from the name or content).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=5000, help="Products per transaction.")] = 1000,
    writers: Annotated[
        int,
        typer.Option(
            min=1, max=8, help="Transactions in flight at once (PostgreSQL; SQLite has one writer)."
        ),
    ] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
) -> None:
    """Import a JSON or CSV product feed into the account's items and variants (idempotent)."""
    from tidings.catalogs import feeds
    from tidings.catalogs import sync as syncing

    db = _db()
    _check_account(db, account)
    if fmt not in (None, "json", "csv"):
        _fail("--format must be json or csv.")
    try:
        settings = get_settings()
        raw, size = syncing.open_source(
            source, max_bytes=settings.feed_max_bytes, allow_private=settings.allow_private_urls
        )
    except (OSError, ValueError) as exc:
        _fail(f"Cannot open {source}: {exc}")
    summary = syncing.SyncSummary()
    started = time.monotonic()
    console = Console(stderr=True)
    columns = [TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[records]} records")]  # fmt: skip
    with raw, Progress(*columns, console=console, disable=as_json, transient=False) as progress:
        counter, products = feeds.open_products(source, raw, fmt)
        task = progress.add_task("Syncing", total=size, records=0)
        try:
            batches = syncing.prefetch(syncing.batches(products, summary, batch_size))
            _write_all(
                db,
                account,
                batches,
                summary,
                writers if db.dialect == "postgresql" else 1,
                lambda: progress.update(task, completed=counter.count, records=summary.records),
            )
        except feeds.READ_ERRORS as exc:
            _fail(f"The feed could not be read after {summary.records} records: {exc}")
        progress.update(task, completed=counter.count, records=summary.records)
    elapsed = time.monotonic() - started
    _print(summary, elapsed, as_json)


def _write_all(
    db: Database,
    account: str,
    batches: Iterable[list[Product]],
    summary: SyncSummary,
    writers: int,
    on_batch: Callable[[], object],
) -> None:
    """Apply batches, each in its own transaction, up to `writers` at once.

    Two batches that share an item or variant id are never in flight together (they would
    wait on each other's rows); rows are written in id order, so shared categories cannot
    deadlock either.
    """
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    from tidings.catalogs import sync as syncing
    from tidings.catalogs.sync import SyncSummary

    def write(batch: list[Product]) -> SyncSummary:
        part = SyncSummary()
        with db.write() as session:
            syncing.apply_batch(session, account, batch, part)
        return part

    in_flight: dict[Future[SyncSummary], set[str]] = {}

    def settle(futures: set[Future[SyncSummary]]) -> None:
        for future in futures:
            summary.merge(future.result())
            del in_flight[future]
            on_batch()

    with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="tidings-feed-writer") as pool:
        for batch in batches:
            ids = {p.item["id"] for p in batch} | {v["id"] for p in batch for v in p.variants}
            while len(in_flight) >= writers or any(ids & other for other in in_flight.values()):
                done, _pending = wait(in_flight, return_when=FIRST_COMPLETED)
                settle(done)
            in_flight[pool.submit(write, batch)] = ids
        settle(set(in_flight))


def _print(summary, elapsed: float, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    data = {**summary.as_dict(), "seconds": round(elapsed, 3)}
    if as_json:
        typer.echo(json.dumps(data))
        return
    rate = summary.records / elapsed if elapsed > 0 else 0.0
    typer.echo(f"Synced {summary.records} records in {elapsed:.1f} s ({rate:,.0f} records/s).")
    typer.echo(
        f"  items:      {summary.items_created} created, {summary.items_updated} updated, "
        f"{summary.items_unchanged} unchanged"
    )
    typer.echo(
        f"  variants:   {summary.variants_created} created, {summary.variants_updated} updated, "
        f"{summary.variants_unchanged} unchanged"
    )
    typer.echo(f"  categories: {summary.categories_created} created")
    if summary.failed:
        typer.echo(f"  {summary.failed} records failed:")
        for record, message in summary.errors:
            typer.echo(f"    record {record}: {message}")


@feed_app.command("set")
def feed_set(
    url: Annotated[str, typer.Argument(help="The feed's http(s) URL.")],
    account: Annotated[str, typer.Option(help="Account id.")],
    every: Annotated[
        int, typer.Option(help="Seconds between syncs (default six hours, as Klaviyo).")
    ] = 21600,
) -> None:
    """Sync this feed into the account's catalog on a schedule (replaces the account's feed)."""
    from tidings.catalogs import sync as syncing

    db = _db()
    _check_account(db, account)
    try:
        with db.write() as session:
            syncing.set_feed(session, account, url, every, allow_private=get_settings().allow_private_urls)
    except ValueError as exc:
        _fail(str(exc))
    typer.echo(f"Feed set for {account}: {url}, every {every} s (the workers run it).")


@feed_app.command("show")
def feed_show(account: Annotated[str | None, typer.Option(help="Only this account's feed.")] = None) -> None:
    """Scheduled feeds and how their last sync went."""
    from tidings.catalogs import sync as syncing

    with _db().read() as session:
        for feed in syncing.list_feeds(session, account):
            last = feed.last_finished_at.isoformat() if feed.last_finished_at else "never"
            status = feed.last_status or ""
            typer.echo(
                f"{feed.account_id}  every {feed.interval_seconds}s  {feed.url}  last: {last} {status}"
            )


@feed_app.command("remove")
def feed_remove(account: Annotated[str, typer.Option(help="Account id.")]) -> None:
    """Stop syncing the account's feed (the catalog keeps its items)."""
    from tidings.catalogs import sync as syncing

    with _db().write() as session:
        removed = syncing.remove_feed(session, account)
    typer.echo("Feed removed." if removed else "This account has no feed.")
