"""The delivery commands.

`tidings bounces ...`: the SMTP listener for the return-path domain, and importing bounces and
complaints from a mailbox file (mbox) or a folder of `.eml` files. Both store each message and
enqueue its processing (delivery/inbound.py); the workers of a running `tidings serve` (or
`tidings jobs drain`) apply them.

`tidings dkim ...`: an account's DKIM keys for its sending domains. The command owns the unit of
work: the service makes the key and the row, the command commits and prints the DNS record.
"""

from __future__ import annotations

import json
import mailbox
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from tidings.accounts import repository as accounts
from tidings.config import Settings, get_settings
from tidings.db.session import Database
from tidings.delivery import dkim, inbound
from tidings.delivery.listener import start_listener

app = typer.Typer(help="Bounces and complaints: the listener, and mailbox imports.", no_args_is_help=True)
dkim_app = typer.Typer(help="DKIM keys of an account's sending domains.", no_args_is_help=True)
IMPORT_BATCH = 200


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command("listen")
def listen(
    host: Annotated[str | None, typer.Option(help="Interface (default TIDINGS_BOUNCE_SMTP_HOST).")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default TIDINGS_BOUNCE_SMTP_PORT, else 2525).")
    ] = None,
) -> None:
    """Take bounces and complaints by SMTP for TIDINGS_BOUNCE_DOMAIN until interrupted."""
    settings = get_settings()
    if not settings.bounce_domain:
        _fail("Set TIDINGS_BOUNCE_DOMAIN (the domain of the return paths) first.")
    assert settings.bounce_domain is not None
    host = host or settings.bounce_smtp_host
    port = port or settings.bounce_smtp_port or 2525
    db = Database(settings)
    try:
        controller = start_listener(db, settings.bounce_domain, host, port)
    except Exception as exc:  # the port is taken, or the interface is wrong
        _fail(f"Cannot listen on {host}:{port}: {exc}")
    typer.echo(f"Taking bounces for @{settings.bounce_domain} on {host}:{port} (Ctrl-C stops).", err=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        controller.stop()
        db.dispose()


@app.command("import")
def import_mailbox(
    path: Annotated[Path, typer.Argument(help="An mbox file, or a folder of .eml files.")],
) -> None:
    """Store every message of a mailbox as a bounce report to process (a message imported twice
    is stored once)."""
    if not path.exists():
        _fail(f"No such file or folder: {path}")
    db = Database(get_settings())
    stored = seen = 0
    try:
        batch: list[bytes] = []
        for raw in _messages(path):
            batch.append(raw)
            if len(batch) >= IMPORT_BATCH:
                stored += _store(db, batch)
                seen += len(batch)
                batch = []
        stored += _store(db, batch)
        seen += len(batch)
    finally:
        db.dispose()
    typer.echo(f"Read {seen} messages from {path}: {stored} stored, {seen - stored} seen before.")


def _store(db: Database, batch: list[bytes]) -> int:
    if not batch:
        return 0
    with db.write() as session:
        return sum(inbound.store_message(session, "import", raw) is not None for raw in batch)


def _messages(path: Path) -> Iterator[bytes]:
    if path.is_dir():
        for file in sorted(path.glob("*.eml")):
            yield file.read_bytes()
        return
    box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            yield box.get_bytes(key)
    finally:
        box.close()


# DKIM keys


def _print(records: list[dkim.DnsRecord], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([{"domain": r.domain, "selector": r.selector, "name": r.name, "type": "TXT",
                                "value": r.value} for r in records], indent=2))  # fmt: skip
        return
    for record in records:
        typer.echo(f"Domain:   {record.domain} (selector {record.selector})")
        typer.echo("Publish this DNS TXT record:")
        typer.echo(f"  Name:   {record.name}")
        typer.echo(f"  Value:  {record.value}")
        typer.echo(f"  (zone file: {record.name}. IN TXT {record.zone_value()})")


@dkim_app.command("create")
def create(
    account: Annotated[str, typer.Option(help="Account id.")],
    domain: Annotated[str, typer.Option(help="The domain mail is sent from (the From address's).")],
    selector: Annotated[str, typer.Option(help="The DKIM selector.")] = dkim.DEFAULT_SELECTOR,
    bits: Annotated[int, typer.Option(min=1024, max=4096, help="RSA key size.")] = 2048,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Make a DKIM key for the account's domain (replacing its key) and print the DNS record."""
    db = Database(get_settings())
    try:
        with db.write() as session:
            if accounts.get_account(session, account) is None:
                _fail(f"No account with id {account!r}.")
            record = dkim.create_sending_domain(session, account, domain, selector=selector, bits=bits)
    except ValueError as error:
        _fail(str(error))
    finally:
        db.dispose()
    _print([record], as_json)


@dkim_app.command("show")
def show(
    account: Annotated[str, typer.Option(help="Account id.")],
    domain: Annotated[str | None, typer.Option(help="One domain (default: all of the account's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the DNS records of the account's sending domains."""
    db = Database(get_settings())
    try:
        with db.read() as session:
            if accounts.get_account(session, account) is None:
                _fail(f"No account with id {account!r}.")
            records = dkim.sending_domain_records(session, account, domain)
    except ValueError as error:
        _fail(str(error))
    finally:
        db.dispose()
    if not records:
        _fail(f"The account has no DKIM key{' for ' + domain if domain else ''}: run `tidings dkim create`.")
    _print(records, as_json)


def summary(settings: Settings) -> str:
    """Where messages go, as `tidings serve` says at start-up."""
    if settings.email_provider == "outbox":
        outbox = Path(settings.outbox_dir).resolve()
        email = f"email is written to {outbox}/<date>/<send id>.eml (TIDINGS_EMAIL_PROVIDER=outbox)"
    else:
        email = "email goes to the SMTP relay of TIDINGS_SMTP_URL"
    return f"Delivery: {email}; SMS: {settings.sms_provider}; push: {settings.push_provider}."
