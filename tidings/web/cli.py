"""`tidings users ...`: people who sign in to the web app (/app), and their roles; and the first
user of the default account, made by `tidings serve --default-account` (`make run`)."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from tidings.config import Settings, get_settings
from tidings.db.session import Database
from tidings.jsonapi.errors import APIError
from tidings.web import repository, service

app = typer.Typer(help="People who sign in to the web app (/app), and their roles.", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


DEFAULT_USER = "owner@tidings.local"


def announce_first_user(settings: Settings, url: str, account_id: str) -> None:
    """The default account's first person, made when it has none: an owner whose password is
    printed this once (never saved); `tidings users set-password` sets a new one."""
    with Database(settings).write() as session:
        if service.has_members(session, account_id):
            typer.echo(f"Web app:      {url}/app/  (sign in as a user of this account)")
            return
        password = secrets.token_urlsafe(12)
        existing = service.repository.user_by_email(session, DEFAULT_USER)
        if existing is not None:  # the user of an earlier default account: a new password
            service.set_password(session, DEFAULT_USER, password)
            user_id = existing.id
        else:
            user_id = service.create_user(session, DEFAULT_USER, password, name="Owner").id
        service.add_membership(session, account_id, user_id, "owner")
    typer.echo(f"Web app:      {url}/app/")
    typer.echo(f"  sign in as  {DEFAULT_USER}")
    typer.echo(f"  password    {password}   (shown once, not saved; to set another:")
    typer.echo(f"              tidings users set-password --email {DEFAULT_USER})")


@app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="The person's email; they sign in with it.")],
    account: Annotated[str, typer.Option(help="The account they join (its id).")],
    role: Annotated[
        str,
        typer.Option(
            help="owner, admin, manager, analyst, campaign_coordinator, content_creator or support."
        ),
    ] = "owner",
    password: Annotated[
        str | None, typer.Option(help="At least 10 characters; asked for when not given.")
    ] = None,
    name: Annotated[str, typer.Option(help="A display name.")] = "",
) -> None:
    """Create a user (or add an existing one to another account) with a role."""
    try:
        with Database(get_settings()).write() as session:
            user = repository.user_by_email(session, email.strip().lower())
            if user is None:
                secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
                user = service.create_user(session, email, secret, name=name)
            service.add_membership(session, account, user.id, role)
    except APIError as exc:
        _fail(exc.detail)
    typer.echo(f"{email.strip().lower()} is {role} of account {account}; sign in at /app/")


@app.command("list")
def users_list(account: Annotated[str, typer.Option(help="The account (its id).")]) -> None:
    """List the users of an account and their roles."""
    with Database(get_settings()).read() as session:
        for member, user in repository.members(session, account):
            typer.echo(f"{user.id}  {user.email}  {member.role}")


@app.command("set-password")
def users_set_password(
    email: Annotated[str, typer.Option(help="The user's email.")],
    password: Annotated[
        str | None, typer.Option(help="At least 10 characters; asked for when not given.")
    ] = None,
) -> None:
    """Set a user's password (and sign them out everywhere)."""
    secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with Database(get_settings()).write() as session:
            service.set_password(session, email, secret)
    except APIError as exc:
        _fail(exc.detail)
    typer.echo(f"The password of {email} is set.")
