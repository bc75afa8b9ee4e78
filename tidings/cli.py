"""The `tidings` command."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import stat
import threading
from pathlib import Path
from typing import Annotated

import typer

from tidings.catalogs import cli as catalog_cli
from tidings.config import get_settings
from tidings.delivery import cli as delivery_cli
from tidings.web import cli as web_cli

app = typer.Typer(
    help="Tidings: customer data and marketing automation that speaks Klaviyo's API.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="Private API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(delivery_cli.app, name="bounces")
app.add_typer(delivery_cli.dkim_app, name="dkim")
events_app = typer.Typer(help="Event ingestion: dead letters.", no_args_is_help=True)
jobs_app = typer.Typer(help="Background jobs: the dead ones, and retrying them.", no_args_is_help=True)
import_app = typer.Typer(help="Import data from files.", no_args_is_help=True)
app.add_typer(events_app, name="events")
app.add_typer(jobs_app, name="jobs")
app.add_typer(import_app, name="import")
app.add_typer(web_cli.app, name="users")


@app.callback()
def _wired() -> None:
    """Every command runs with the domains wired, as the server does: its writes start the same
    work (segment updates, last_event_date) and its merges and deletions carry every participant."""
    from tidings import domains

    domains.install()


def _database():  # type: ignore[no-untyped-def]
    from tidings.db.session import Database

    return Database(get_settings())


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (safe to run again)."""
    from tidings.db.migrate import upgrade

    db = _database()
    upgrade(db.engine)
    typer.echo(f"Database is up to date ({db.dialect}).")


def _ensure_schema(migrate: bool) -> None:
    from tidings.db.migrate import current_heads, expected_heads, upgrade

    db = _database()
    if migrate:
        upgrade(db.engine)
    elif current_heads(db.engine) != expected_heads():
        _fail("The database schema is not current: run `tidings db upgrade` first.")
    db.dispose()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    migrate: Annotated[bool, typer.Option(help="Apply migrations before serving.")] = True,
    processes: Annotated[
        int, typer.Option(help="Server processes sharing the port (each with its workers).")
    ] = 1,
    default_account: Annotated[
        bool,
        typer.Option(
            "--default-account",
            help="Create a default account on first start and print its keys and the URL (make run).",
        ),
    ] = False,
) -> None:
    """Serve the API, with background workers in the same process (TIDINGS_WORKERS)."""
    import uvicorn

    from tidings.app import serving_app
    from tidings.ops.logs import configure_logging

    settings = get_settings()
    _check_port(host, port)  # before anything is printed: uvicorn finds out only after the banner
    configure_logging(settings.log_level, settings.log_format)
    _ensure_schema(migrate)
    if default_account:
        _announce_default_account(DEFAULT_CREDENTIALS, f"http://{host}:{port}")
    typer.echo(f"Tidings is serving at http://{host}:{port} (database: {settings.database_url})", err=True)
    typer.echo(delivery_cli.summary(settings), err=True)
    if processes > 1:
        uvicorn.run(
            "tidings.app:serving_app",
            factory=True,
            host=host,
            port=port,
            workers=processes,
            log_level="warning",
            access_log=False,
        )
    else:
        uvicorn.run(serving_app(), host=host, port=port, log_level="warning", access_log=False)


def _check_port(host: str, port: int) -> None:
    """Fail with what to do when the port cannot be listened on."""
    problem = _bind_problem(host, port)
    if problem is None:
        return
    if problem.errno != errno.EADDRINUSE:
        _fail(f"Tidings cannot listen on {host}:{port}: {problem.strerror}.")
    other = next((p for p in range(port + 1, port + 50) if _bind_problem(host, p) is None), port + 11)
    _fail(
        f"Port {port} on {host} is already in use (is Tidings already running?). Pick another port: "
        f"make run PORT={other}   (or: tidings serve --port {other})"
    )


def _bind_problem(host: str, port: int) -> OSError | None:
    """Why a server could not listen on host:port (None: it could), found by binding as uvicorn does."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except OSError as error:  # socket.gaierror included
        return error
    return None


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Worker threads in this process, for each lane.")] = 2,
    lane: Annotated[
        list[str] | None,
        typer.Option(help="A lane to work on (default, network); repeat for several. Default: every lane."),
    ] = None,
    delivery: Annotated[
        int | None,
        typer.Option(help="Delivery workers in this process. Default: TIDINGS_DELIVERY_WORKERS."),
    ] = None,
    webhooks: Annotated[
        int | None,
        typer.Option(help="Webhook senders in this process. Default: TIDINGS_WEBHOOK_WORKERS."),
    ] = None,
) -> None:
    """Run background workers only (scale them out as separate processes)."""
    from tidings import domains
    from tidings.delivery.worker import DeliveryWorker, delivery_workers
    from tidings.jobs.tables import LANES
    from tidings.jobs.worker import Worker, lane_workers
    from tidings.ops.gc_tuning import tune_gc
    from tidings.ops.logs import configure_logging
    from tidings.webhooks.sender import WebhookSender, webhook_senders

    lanes = lane or list(LANES)
    unknown = [name for name in lanes if name not in LANES]
    if unknown:
        _fail(f"Unknown lane {unknown[0]!r}: the lanes are {', '.join(LANES)}.")
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    _ensure_schema(False)
    domains.install()
    db = _database()
    pool: list[Worker | DeliveryWorker | WebhookSender] = [
        *lane_workers(db, dict.fromkeys(lanes, concurrency)),
        *delivery_workers(db, settings, delivery),
        *webhook_senders(db, settings, webhooks),
    ]
    tune_gc()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    for item in pool:
        item.start()
    typer.echo(
        f"{len(pool)} worker(s) running ({', '.join(lanes)}, delivery, webhooks); Ctrl-C to stop.", err=True
    )
    stop.wait()
    for item in pool:
        item.stop()


def _print_credentials(data: dict[str, str], as_json: bool, *, kept: str = "shown once") -> None:
    if as_json:
        typer.echo(json.dumps(data))
        return
    typer.echo(f"Account id:   {data['account_id']}")
    typer.echo(f"Public key:   {data['public_key']}   (company_id, for /client and legacy track/identify)")
    typer.echo(f"Private key:  {data['private_key']}   ({kept}; keep it secret)")


def _create_account(name: str, timezone: str, currency: str, sender_email: str) -> dict[str, str]:
    from tidings.accounts import service
    from tidings.accounts.schemas import AccountCreate, ContactInformation
    from tidings.jsonapi.errors import APIError

    db = _database()
    contact = ContactInformation(
        organization_name=name, default_sender_name=name, default_sender_email=sender_email
    )
    try:
        with db.write() as session:
            account = service.create_account(
                session,
                AccountCreate(
                    name=name, timezone=timezone, preferred_currency=currency, contact_information=contact
                ),
            )
            _key, raw = service.create_key(session, account.id, label="created with the account")
    except APIError as exc:
        _fail(exc.detail)
    return {"account_id": account.id, "private_key": raw, "public_key": account.id}


@accounts_app.command("create")
def accounts_create(
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    timezone: Annotated[str, typer.Option(help="IANA timezone.")] = "UTC",
    currency: Annotated[str, typer.Option(help="Preferred currency (ISO 4217).")] = "USD",
    sender_email: Annotated[str, typer.Option(help="Default sender email.")] = "",
) -> None:
    """Create an account and its first private key."""
    _print_credentials(_create_account(name, timezone, currency, sender_email), as_json)


@accounts_app.command("list")
def accounts_list() -> None:
    """List accounts."""
    from tidings.accounts import repository

    with _database().read() as session:
        for account in repository.list_accounts(session):
            typer.echo(f"{account.id}  {account.name}  {account.timezone}  {account.preferred_currency}")


DEFAULT_CREDENTIALS = Path(".tidings/credentials.json")


@accounts_app.command("ensure-default")
def accounts_ensure_default(
    credentials: Annotated[
        Path, typer.Option(help="Where the first start keeps its keys (mode 600).")
    ] = DEFAULT_CREDENTIALS,
    url: Annotated[str, typer.Option(help="The URL to print.")] = "http://127.0.0.1:8080",
) -> None:
    """Create a default account on first start, and print its keys, the URL and how to sign in."""
    _announce_default_account(credentials, url)


def _announce_default_account(credentials: Path, url: str) -> None:
    saved, kept = _default_account(credentials)
    typer.echo("")
    typer.echo(f"Tidings URL:  {url}")
    _print_credentials(saved, False, kept=kept)
    typer.echo(
        f"(try: curl -H 'Authorization: Klaviyo-API-Key {saved['private_key']}' "
        f"-H 'revision: 2026-07-15' {url}/api/accounts)"
    )
    web_cli.announce_first_user(get_settings(), url, saved["account_id"])
    typer.echo("")


def _default_account(credentials: Path) -> tuple[dict[str, str], str]:
    """The default account's keys as saved in `credentials` (made on first start; a new private
    key when the saved one was revoked), and what to say about where the private key is kept."""
    from tidings.accounts import repository, service

    saved: dict[str, str] | None = json.loads(credentials.read_text()) if credentials.exists() else None
    kept = f"saved in {credentials}, printed at every start"
    revoked = False
    if saved:
        with _database().write() as session:
            if repository.get_account(session, saved["account_id"]) is None:
                saved = None
            elif repository.find_key(session, service.hash_key(saved["private_key"])) is None:
                _key, raw = service.create_key(session, saved["account_id"], label="replaces a revoked one")
                saved, revoked = {**saved, "private_key": raw}, True
    if saved and revoked:  # saved once committed: the file never holds a key that does not exist
        kept = f"new, as the saved one was revoked; saved in {credentials}"
        _save(credentials, saved)
    if not saved:
        saved = _create_account("Default account", "UTC", "USD", "")
        kept = f"new; saved in {credentials}, printed at every start"
        _save(credentials, saved)
    return saved, kept


def _save(credentials: Path, data: dict[str, str]) -> None:
    credentials.parent.mkdir(parents=True, exist_ok=True)
    credentials.touch(mode=stat.S_IRUSR | stat.S_IWUSR)
    os.chmod(credentials, stat.S_IRUSR | stat.S_IWUSR)  # before the secret is written
    credentials.write_text(json.dumps(data, indent=1))


@keys_app.command("create")
def keys_create(
    account: Annotated[str, typer.Option(help="Account id.")],
    scopes: Annotated[
        str | None,
        typer.Option(help="Comma-separated scopes, e.g. profiles:read,events:write. Default: full access."),
    ] = None,
    label: Annotated[str, typer.Option(help="A note to recognise the key by.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create a private key for an account."""
    from tidings.accounts import service
    from tidings.jsonapi.errors import APIError

    scope_list = [s.strip() for s in scopes.split(",") if s.strip()] if scopes is not None else None
    try:
        with _database().write() as session:
            key, raw = service.create_key(session, account, scopes=scope_list, label=label)
    except APIError as exc:
        _fail(exc.detail)
    data = {
        "account_id": account,
        "key_id": key.id,
        "private_key": raw,
        "scopes": key.scopes or "full access",
    }
    if as_json:
        typer.echo(json.dumps(data))
    else:
        typer.echo(f"Private key: {raw}   (shown once)\nScopes: {data['scopes']}")


@keys_app.command("list")
def keys_list(account: Annotated[str | None, typer.Option(help="Only this account's keys.")] = None) -> None:
    """List private keys (prefixes only; keys are stored hashed)."""
    from tidings.accounts import repository

    with _database().read() as session:
        for key in repository.list_keys(session, account):
            scopes = ",".join(key.scopes) if key.scopes is not None else "full access"
            state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
            typer.echo(f"{key.account_id}  {key.id}  {key.key_prefix}…  {state}  {scopes}  {key.label}")


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[
        str, typer.Argument(help="The key (pk_...), its id, or its prefix as `tidings keys list` shows it.")
    ],
    account: Annotated[str | None, typer.Option(help="Only among this account's keys.")] = None,
) -> None:
    """Revoke a private key: every server process refuses it within TIDINGS_KEY_CHECK_INTERVAL
    seconds (1 by default)."""
    from tidings.accounts import service
    from tidings.jsonapi.errors import APIError

    try:
        with _database().write() as session:
            revoked, was_active = service.revoke_key(session, key, account)
            left = len(service.active_keys(session, revoked.account_id))
    except APIError as exc:
        _fail(exc.detail)
        return
    name = f"{revoked.key_prefix}… (id {revoked.id}, account {revoked.account_id})"
    if not was_active:
        typer.echo(f"Key {name} was already revoked ({revoked.revoked_at:%Y-%m-%d %H:%M} UTC).")
        return
    interval = get_settings().key_check_interval
    typer.echo(f"Revoked key {name}. Every server refuses it within {interval:g} s.")
    if not left:
        typer.echo(
            f"Account {revoked.account_id} has no active private key left: "
            f"tidings keys create --account {revoked.account_id}"
        )


@events_app.command("failed")
def events_failed(
    account: Annotated[str | None, typer.Option(help="Only this account's.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
) -> None:
    """List accepted events that could not be applied (dead letters), with their errors."""
    from tidings.events.ingest.dead_letters import failures_query

    with _database().read() as session:
        rows = session.execute(failures_query(account).limit(limit)).scalars().all()
    if not rows:
        typer.echo("No failed events.")
    for row in rows:
        received = f"{row.received:%Y-%m-%d %H:%M:%S}"
        typer.echo(f"{row.account_id}  {row.id}  {row.kind}{row.item_pointer}  received {received}")
        typer.echo(f"    {row.error}")


@events_app.command("retry")
def events_retry(
    failure_id: str, account: Annotated[str, typer.Option(help="The failed event's account.")]
) -> None:
    """Send a failed event back to the processor."""
    from tidings.events.ingest.dead_letters import retry
    from tidings.jsonapi.errors import APIError

    try:
        with _database().write() as session:
            inbox_id = retry(session, account, failure_id)
    except APIError as exc:
        _fail(exc.detail)
    typer.echo(f"Queued again as {inbox_id}.")


@jobs_app.command("list")
def jobs_list(
    status: Annotated[
        list[str] | None,
        typer.Option(help="Only jobs in this state (repeatable): dead, queued, running, done."),
    ] = None,
    account: Annotated[str | None, typer.Option(help="Only this account's.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
) -> None:
    """List jobs, by default the dead ones (out of attempts), with their last errors."""
    from tidings.jobs.queue import list_jobs
    from tidings.jobs.tables import DEAD

    statuses = status or [DEAD]
    with _database().read() as session:
        rows = list_jobs(session, statuses, account_id=account, limit=limit)
    if not rows:
        typer.echo(f"No {'/'.join(statuses)} jobs.")
    for row in rows:
        when = f"{(row.finished_at or row.run_at):%Y-%m-%d %H:%M:%S}"
        typer.echo(
            f"{row.account_id or '-'}  {row.id}  {row.name}  [{row.lane}]  {row.status}  "
            f"attempt {row.attempts}/{row.max_attempts}  {when}"
        )
        if row.last_error:
            typer.echo(f"    {row.last_error.strip().splitlines()[-1]}")


@jobs_app.command("retry")
def jobs_retry(
    job_id: str, account: Annotated[str, typer.Option(help="The job's account ('' for system jobs).")] = ""
) -> None:
    """Queue a dead job again, with all its attempts."""
    from tidings.jobs.queue import retry

    with _database().write() as session:
        if not retry(session, account, job_id):
            _fail(f"No dead job {job_id!r} in account {account!r}.")
    typer.echo(f"Queued {job_id} again.")


@import_app.command("events")
def import_events(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV with a header row.")],
    metric: Annotated[str, typer.Option(help="The metric of every row, e.g. 'Placed Order'.")],
    account: Annotated[str | None, typer.Option(help="Account id (default: the only account).")] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Where rejected rows go (default: FILE.rejected.csv).")
    ] = None,
) -> None:
    """Import historical events (always backfill: they never start flows)."""
    from tidings.events.csv_import import BadFile, count_rows
    from tidings.events.csv_import import import_events as run_import

    db = _database()
    account_id = _account_or_only(db, account)
    rejects = rejects or file.with_suffix(".rejected.csv")
    total = count_rows(file)
    try:
        with (
            file.open(newline="", encoding="utf-8-sig") as stream,
            rejects.open("w", newline="") as bad,
            typer.progressbar(length=total, label=f"Importing {file.name}") as bar,
        ):
            summary = run_import(db, account_id, stream, metric=metric, rejects=bad, progress=bar.update)
    except BadFile as exc:
        rejects.unlink(missing_ok=True)
        _fail(str(exc))
    typer.echo(
        f"{summary.rows} rows: {summary.imported} events imported, {summary.duplicates} duplicates skipped, "
        f"{summary.rejected} rejected, {summary.profiles_created} profiles created."
    )
    if summary.rejected:
        for reason, count in sorted(summary.reasons.items(), key=lambda item: -item[1]):
            typer.echo(f"  {count:>8}  {reason}")
        typer.echo(f"Rejected rows with their reasons: {rejects}")
    else:
        rejects.unlink(missing_ok=True)


@import_app.command("profiles")
def import_profiles(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV with a header row.")],
    list_: Annotated[
        str | None, typer.Option("--list", help="Add every imported profile to this list (name or id).")
    ] = None,
    account: Annotated[str | None, typer.Option(help="Account id (default: the only account).")] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Where rejected rows go (default: FILE.rejected.csv).")
    ] = None,
) -> None:
    """Import profiles: create or update them by their identifiers (as bulk_import_profiles)."""
    from tidings.events.csv_import import count_rows
    from tidings.jsonapi.errors import APIError
    from tidings.lists.service import find_list
    from tidings.profile_imports.csv_import import batch_gc
    from tidings.profile_imports.csv_import import import_profiles as run_import

    db = _database()
    account_id = _account_or_only(db, account)
    list_ids: list[str] = []
    if list_ is not None:
        try:
            with db.read() as session:
                list_ids = [find_list(session, account_id, list_).id]
        except APIError as exc:
            _fail(exc.detail)
    rejects = rejects or file.with_suffix(".rejected.csv")
    total = count_rows(file)
    with (
        batch_gc(),
        file.open(newline="", encoding="utf-8-sig") as stream,
        rejects.open("w", newline="") as bad,
        typer.progressbar(length=total, label=f"Importing {file.name}") as bar,
    ):
        summary = run_import(db, account_id, stream, list_ids=list_ids, rejects=bad, progress=bar.update)
    joined = f", added to list {list_ids[0]}" if list_ids else ""
    typer.echo(
        f"{summary.rows} rows: {summary.imported} profiles imported ({summary.created} created, "
        f"{summary.imported - summary.created} updated){joined}, {summary.rejected} rejected."
    )
    if summary.rejected:
        for reason, count in sorted(summary.reasons.items(), key=lambda item: -item[1]):
            typer.echo(f"  {count:>8}  {reason}")
        typer.echo(f"Rejected rows with their reasons: {rejects}")
    else:
        rejects.unlink(missing_ok=True)


def _account_or_only(db, account: str | None) -> str:  # type: ignore[no-untyped-def]
    from tidings.accounts import repository

    with db.read() as session:
        if account is not None:
            if repository.get_account(session, account) is None:
                _fail(f"No account with id {account!r}.")
            return account
        accounts = repository.list_accounts(session)
    if len(accounts) != 1:
        _fail("Say which account with --account (there is not exactly one).")
    return accounts[0].id


if __name__ == "__main__":
    app()


profiles_app = typer.Typer(help="Profiles.", no_args_is_help=True)
app.add_typer(profiles_app, name="profiles")


@profiles_app.command("unmerge")
def profiles_unmerge(
    merge_id: Annotated[str, typer.Argument(help="The merge's id (GET /api/x-tidings/profile-merges).")],
    account: Annotated[
        str | None, typer.Option(help="The account id (found from the merge if omitted).")
    ] = None,
) -> None:
    """Undo a profile merge: restore the source profile and everything that moved."""
    from tidings.jsonapi.errors import APIError
    from tidings.profiles.service import find_merge_account, unmerge

    db = _database()
    try:
        with db.write() as session:
            account_id = account or find_merge_account(session, merge_id)
            merge = unmerge(session, account_id, merge_id)
    except APIError as exc:
        _fail(exc.detail)
        return
    typer.echo(
        f"Unmerged {merge.id}: profile {merge.source_profile_id} restored "
        f"(was merged into {merge.destination_profile_id})."
    )
