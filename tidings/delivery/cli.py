"""`tidings dkim ...`: an account's DKIM keys for its sending domains.

The command owns the unit of work: the service makes the key and the row, the command commits
and prints the DNS record to publish.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tidings.accounts import repository as accounts
from tidings.config import get_settings
from tidings.db.session import Database
from tidings.delivery import dkim

app = typer.Typer(help="DKIM keys of an account's sending domains.", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


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


@app.command("create")
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


@app.command("show")
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
