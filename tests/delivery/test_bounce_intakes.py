"""Bounces and complaints taken in by SMTP (the listener, on 127.0.0.1) and from mailbox files
(`tidings bounces import`): stored, acknowledged, then applied by the job."""

from __future__ import annotations

import asyncio
import mailbox
import socket
from collections.abc import Iterator

import aiosmtplib
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.delivery import bounce_fixtures as fx
from tests.delivery.bounce_support import (
    BOUNCE_DOMAIN,
    customer,
    metric_names,
    process,
    sent_email,
    suppressions,
)
from tidings.app import create_app
from tidings.cli import app as cli
from tidings.config import get_settings
from tidings.delivery import verp
from tidings.delivery.listener import start_listener
from tidings.templates.links import instance_secret


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def listener(db) -> Iterator[int]:  # type: ignore[no-untyped-def]
    port = _free_port()
    controller = start_listener(db, BOUNCE_DOMAIN, "127.0.0.1", port)
    yield port
    controller.stop()


def _secret(db) -> str:  # type: ignore[no-untyped-def]
    with db.write() as session:
        return instance_secret(session, None)


def _send(port: int, raw: bytes, rcpt: str) -> tuple[int, str]:
    async def go() -> tuple[int, str]:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10) as smtp:
            errors, response = await smtp.sendmail("", [rcpt], raw)
            return (250 if not errors else 550), response

    return asyncio.run(go())


def test_the_listener_takes_a_bounce_for_a_verp_address(db, client, account, listener) -> None:
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    address = verp.return_path(account.id, sent.send_id, _secret(db), domain=BOUNCE_DOMAIN)
    original = fx.original_headers(message_id=sent.message_id, rcpt=email, return_path=address)
    code, response = _send(listener, fx.postfix_dsn(to=address, rcpt=email, original=original), address)
    assert code == 250 and "queued as" in response
    process(db)
    assert metric_names(client, account, profile) == ["Bounced Email"]
    assert suppressions(client, account, profile) == ["HARD_BOUNCE"]


def test_the_listener_takes_a_complaint_at_its_feedback_address(db, client, account, listener) -> None:
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    address = verp.return_path(account.id, sent.send_id, _secret(db), domain=BOUNCE_DOMAIN)
    original = fx.original_headers(message_id=sent.message_id, rcpt=email, return_path=address)
    feedback = f"fbl@{BOUNCE_DOMAIN.upper()}"  # the domain's case does not matter
    code, _ = _send(
        listener, fx.yahoo_arf(to=feedback, rcpt=email, original=original, mail_from=address), feedback
    )
    assert code == 250
    process(db)
    assert "SPAM_COMPLAINT" in suppressions(client, account, profile)


def test_the_listener_refuses_other_domains(listener) -> None:
    async def go() -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=listener, timeout=10) as smtp:
            await smtp.mail("")
            with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
                await smtp.rcpt("someone@elsewhere.example")
            assert refused.value.code == 550

    asyncio.run(go())


@pytest.fixture
def run(monkeypatch, database_url, db):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TIDINGS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli, [str(a) for a in args])
    get_settings.cache_clear()


def _report(kind: str, address: str, email: str, original: str) -> bytes:
    if kind == "postfix":
        return fx.postfix_dsn(to=address, rcpt=email, original=original)
    if kind == "gmail":
        failure = (email, "failed", "5.1.1", "550-5.1.1 The email account does not exist.")
        return fx.gmail_dsn(to=address, recipients=[failure], original=original)
    if kind == "qmail":
        return fx.qmail_bounce(to=address, rcpt=email)
    return fx.yahoo_arf(to="fbl@shop.example", rcpt=email, original=original, headers_only=True)


def test_import_an_mbox_and_a_folder_of_eml(db, client, account, run, tmp_path) -> None:
    secret = _secret(db)
    profiles, raws = [], []
    for kind in ("postfix", "gmail", "qmail", "arf"):
        profile, email = customer(db, account.id)
        sent = sent_email(db, account.id, profile, email)
        address = verp.return_path(account.id, sent.send_id, secret, domain=BOUNCE_DOMAIN)
        original = fx.original_headers(message_id=sent.message_id, rcpt=email)
        raw = _report(kind, address, email, original)
        profiles.append(profile)
        raws.append(raw)

    box = mailbox.mbox(tmp_path / "bounces.mbox")
    for raw in raws[:2]:
        box.add(raw)
    box.close()
    folder = tmp_path / "eml"
    folder.mkdir()
    for index, raw in enumerate(raws[2:]):
        (folder / f"{index}.eml").write_bytes(raw)
    (folder / "notes.txt").write_text("not a message")

    result = run("bounces", "import", tmp_path / "bounces.mbox")
    assert result.exit_code == 0, result.output
    assert "2 stored" in result.output
    result = run("bounces", "import", folder)
    assert result.exit_code == 0 and "2 stored" in result.output, result.output
    again = run("bounces", "import", folder)
    assert "0 stored, 2 seen before" in again.output
    process(db)
    for profile in profiles[:3]:
        assert suppressions(client, account, profile) == ["HARD_BOUNCE"]
    assert "SPAM_COMPLAINT" in suppressions(client, account, profiles[3])
    assert "Marked Email as Spam" in metric_names(client, account, profiles[3])


def test_import_of_a_missing_path_fails(run, tmp_path) -> None:
    result = run("bounces", "import", tmp_path / "nothing.mbox")
    assert result.exit_code == 1 and "No such file" in result.output


def test_serve_runs_the_listener_when_its_port_is_set(db, settings, client, account) -> None:
    """`tidings serve` (the app's lifespan) starts the listener in-process with
    TIDINGS_BOUNCE_SMTP_PORT, and stops it with the app."""
    port = _free_port()
    configured = settings.model_copy(update={"bounce_domain": BOUNCE_DOMAIN, "bounce_smtp_port": port})
    profile, email = customer(db, account.id)
    sent = sent_email(db, account.id, profile, email)
    address = verp.return_path(account.id, sent.send_id, _secret(db), domain=BOUNCE_DOMAIN)
    with TestClient(create_app(configured, db=db, workers=0)):
        code, _ = _send(port, fx.qmail_bounce(to=address, rcpt=email), address)
    assert code == 250
    process(db)
    assert suppressions(client, account, profile) == ["HARD_BOUNCE"]
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):  # stopped with the app
        sock.connect(("127.0.0.1", port))


class _Unwritable:
    """A database that cannot take the message (down, full, locked)."""

    def write(self):  # type: ignore[no-untyped-def]
        raise OSError("database unavailable")


def test_the_listener_answers_451_when_it_cannot_store(db) -> None:
    port = _free_port()
    controller = start_listener(_Unwritable(), BOUNCE_DOMAIN, "127.0.0.1", port)  # type: ignore[arg-type]
    try:

        async def go() -> None:
            async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10) as smtp:
                with pytest.raises(aiosmtplib.SMTPDataError) as refused:
                    await smtp.sendmail("", [f"bounces+x@{BOUNCE_DOMAIN}"], fx.auto_reply(to="x"))
                assert refused.value.code == 451

        asyncio.run(go())
    finally:
        controller.stop()
