"""DKIM: the cryptography seam gives stock dkimpy's bytes, signatures verify, keys are made and
found per account and domain, and `tidings dkim` prints the record to publish."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json

import dkim
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tidings.cli import app
from tidings.config import get_settings
from tidings.delivery import dkim as tdkim
from tidings.delivery.mime import EmailParts, build_email

PEM, TXT = tdkim.generate_key(1024)  # small: the tests make several keys


def message(**changes: object) -> bytes:
    base: dict[str, object] = {
        "message_id": "<01jeq4.abc@mail.example.com>",
        "from_email": "news@mail.example.com",
        "from_name": "Boutique Éloïse",
        "to_email": "ada@example.org",
        "subject": "Vos sélections",
        "html": "<p>Bonjour</p>\n" * 40,
        "text": "Bonjour\n",
        "date": dt.datetime(2026, 12, 6, 22, 0, tzinfo=dt.UTC),
        "list_unsubscribe_url": "https://t.example.com/p/unsubscribe?t=tok",
        "feedback_id": "c:m:A:tidings",
    }
    base.update(changes)
    return build_email(EmailParts(**base))  # type: ignore[arg-type]


def dns(record: str):  # type: ignore[no-untyped-def]
    return lambda name, timeout=5: record.encode("ascii")


def stock_signature(monkeypatch: pytest.MonkeyPatch, raw: bytes, when: int, pem: str = PEM) -> bytes:
    """What unmodified dkimpy writes for the message at that time (its own RSA and key parser)."""
    monkeypatch.setattr(dkim.time, "time", lambda: when)
    monkeypatch.setattr(dkim, "RSASSA_PKCS1_v1_5_sign", tdkim.STOCK_RSA_SIGN)
    monkeypatch.setattr(dkim, "parse_pem_private_key", tdkim.STOCK_PARSE_KEY)
    headers = [name.encode() for name in tdkim.SIGNED_HEADERS]
    try:
        return bytes(dkim.sign(raw, b"tidings", b"mail.example.com", pem.encode(), include_headers=headers))
    finally:
        monkeypatch.undo()


def test_signature_is_byte_identical_to_stock_dkimpy(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = message()
    before = tdkim.fast_signatures
    fast = tdkim.DkimSigner("mail.example.com", "tidings", PEM).signature(raw, timestamp=1796594400)
    assert tdkim.fast_signatures == before + 1
    assert fast == stock_signature(monkeypatch, raw, 1796594400)
    assert dkim.verify(fast + raw, dnsfunc=dns(TXT))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    subject=st.text(max_size=200),
    name=st.text(max_size=120),
    html=st.text(max_size=3000),
    text=st.text(max_size=500),
    reply_to=st.booleans(),
    unsubscribe=st.booleans(),
    extra=st.lists(st.text(max_size=300), max_size=3),
    when=st.integers(min_value=0, max_value=4_000_000_000),
)
def test_any_message_signs_as_stock_dkimpy_would(  # type: ignore[no-untyped-def]
    monkeypatch, subject, name, html, text, reply_to, unsubscribe, extra, when
) -> None:
    """The header block split here, the body taken as it is: the same bytes as dkimpy's own
    parsing and canonicalization, whatever the subject, names, bodies and headers hold."""
    raw = message(
        subject=subject,
        from_name=name,
        html=html,
        text=text,
        reply_to="help@mail.example.com" if reply_to else None,
        list_unsubscribe_url="https://t.example.com/p/unsubscribe?t=tok" if unsubscribe else None,
        headers={f"X-Extra-{i}": value for i, value in enumerate(extra)},
    )
    fast = tdkim.DkimSigner("mail.example.com", "tidings", PEM).signature(raw, timestamp=when)
    assert fast == stock_signature(monkeypatch, raw, when)


def test_a_message_that_is_not_crlf_throughout_goes_through_dkimpy(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = message().replace(b"\r\n", b"\n")
    monkeypatch.setattr(dkim.time, "time", lambda: 1796594400)
    signed = tdkim.DkimSigner("mail.example.com", "tidings", PEM).sign(raw)
    assert dkim.verify(signed, dnsfunc=dns(TXT))
    monkeypatch.undo()
    assert signed == stock_signature(monkeypatch, raw, 1796594400) + raw


def test_dkimpy_still_signs_through_the_cryptography_seam(monkeypatch: pytest.MonkeyPatch) -> None:
    """The path for messages the fast signer leaves to dkimpy: its RSA is cryptography's, the
    same bytes as its own pure-Python RSA."""
    raw = message().replace(b"\r\n", b"\n")
    monkeypatch.setattr(dkim.time, "time", lambda: 1796594400)
    seam = bytes(
        dkim.sign(raw, b"tidings", b"mail.example.com", PEM.encode(), include_headers=[b"from", b"to"])
    )
    monkeypatch.setattr(dkim, "RSASSA_PKCS1_v1_5_sign", tdkim.STOCK_RSA_SIGN)
    monkeypatch.setattr(dkim, "parse_pem_private_key", tdkim.STOCK_PARSE_KEY)
    stock = bytes(
        dkim.sign(raw, b"tidings", b"mail.example.com", PEM.encode(), include_headers=[b"from", b"to"])
    )
    assert seam == stock


def test_signed_message_verifies_and_covers_the_bulk_headers() -> None:
    signed = tdkim.DkimSigner("mail.example.com", "tidings", PEM).sign(message())
    assert dkim.verify(signed, dnsfunc=dns(TXT))
    header = email.message_from_bytes(signed, policy=email.policy.default)["DKIM-Signature"]
    tags = dict(part.strip().split("=", 1) for part in str(header).split(";"))
    assert tags["d"] == "mail.example.com" and tags["s"] == "tidings" and tags["c"] == "relaxed/simple"
    signed_names = [name.strip() for name in tags["h"].replace(" ", "").split(":")]
    assert signed_names == list(tdkim.SIGNED_HEADERS)
    # a changed List-Unsubscribe, or one added where there was none, breaks the signature
    assert not dkim.verify(signed.replace(b"t=tok", b"t=tak"), dnsfunc=dns(TXT))
    bare = tdkim.DkimSigner("mail.example.com", "tidings", PEM).sign(message(list_unsubscribe_url=None))
    assert not dkim.verify(b"List-Unsubscribe: <https://evil.example/>\r\n" + bare, dnsfunc=dns(TXT))


def test_another_key_does_not_verify() -> None:
    _other_pem, other_txt = tdkim.generate_key(1024)
    signed = tdkim.DkimSigner("mail.example.com", "tidings", PEM).sign(message())
    assert not dkim.verify(signed, dnsfunc=dns(other_txt))


def test_a_pkcs8_key_is_taken_and_bad_keys_refused() -> None:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(PEM.encode(), password=None)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signed = tdkim.DkimSigner("mail.example.com", "tidings", pkcs8).sign(message())
    assert dkim.verify(signed, dnsfunc=dns(TXT))
    with pytest.raises(ValueError):
        tdkim.DkimSigner("mail.example.com", "tidings", "not a key")


def test_generate_key_makes_a_2048_bit_record() -> None:
    pem, record = tdkim.generate_key()
    assert pem.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert record.startswith("v=DKIM1; k=rsa; p=MIIBIjAN")  # a 2048-bit SubjectPublicKeyInfo


def test_signer_for_finds_the_accounts_domain_or_its_parent(db, account, other_account) -> None:  # type: ignore[no-untyped-def]
    with db.write() as session:
        record = tdkim.create_sending_domain(session, account.id, "Example.COM", bits=1024)
    assert record.name == "tidings._domainkey.example.com"
    with db.read() as session:
        signer = tdkim.signer_for(session, account.id, "mail.example.com")
        assert signer is not None and signer.domain == "example.com" and signer.selector == "tidings"
        assert tdkim.signer_for(session, account.id, "example.com") is signer
        assert tdkim.signer_for(session, account.id, "example.org") is None
        assert tdkim.signer_for(session, other_account.id, "example.com") is None  # another account's key
        (shown,) = tdkim.sending_domain_records(session, account.id)
    assert shown == record
    signed = signer.sign(message())
    assert dkim.verify(signed, dnsfunc=dns(record.value))


def test_a_new_key_replaces_the_old_one_at_once_in_this_process(db, account) -> None:  # type: ignore[no-untyped-def]
    with db.write() as session:
        first = tdkim.create_sending_domain(session, account.id, "shop.example", bits=1024)
    with db.read() as session:
        assert tdkim.signer_for(session, account.id, "shop.example") is not None
    with db.write() as session:
        second = tdkim.create_sending_domain(session, account.id, "shop.example", selector="s2", bits=1024)
    assert second.value != first.value
    with db.read() as session:
        signer = tdkim.signer_for(session, account.id, "shop.example")
    assert signer is not None and signer.selector == "s2"


@pytest.mark.parametrize(
    ("domain", "selector"), [("not a domain", "tidings"), ("example.com", "bad selector")]
)
def test_bad_domain_or_selector_is_refused(db, account, domain: str, selector: str) -> None:  # type: ignore[no-untyped-def]
    with db.write() as session, pytest.raises(ValueError):
        tdkim.create_sending_domain(session, account.id, domain, selector=selector, bits=1024)


@pytest.fixture
def run(monkeypatch, database_url, db):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TIDINGS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_cli_create_then_show_prints_the_record_that_verifies(run, account) -> None:  # type: ignore[no-untyped-def]
    created = run("dkim", "create", "--account", account.id, "--domain", "news.example.net", "--bits", "1024")
    assert created.exit_code == 0, created.output
    assert "Name:   tidings._domainkey.news.example.net" in created.output
    value = next(
        line.split("Value:", 1)[1].strip() for line in created.output.splitlines() if "Value:" in line
    )
    shown = run("dkim", "show", "--account", account.id, "--json")
    assert shown.exit_code == 0
    (record,) = json.loads(shown.output)
    assert record == {
        "domain": "news.example.net",
        "selector": "tidings",
        "name": "tidings._domainkey.news.example.net",
        "type": "TXT",
        "value": value,
    }


def test_cli_refuses_an_unknown_account_and_a_bad_domain(run, account) -> None:  # type: ignore[no-untyped-def]
    result = run("dkim", "create", "--account", "NOSUCH", "--domain", "example.com")
    assert result.exit_code == 1 and "No account" in result.output
    result = run("dkim", "create", "--account", account.id, "--domain", "exa mple.com")
    assert result.exit_code == 1 and "not a domain" in result.output
    result = run("dkim", "show", "--account", account.id, "--domain", "nothing.example")
    assert result.exit_code == 1 and "dkim create" in result.output
