"""DKIM signing: dkimpy's format, `cryptography` for the RSA.

`DkimSigner` writes the header `dkim.sign` writes, byte for byte, from the header block and body
of a message Tidings built itself (CRLF throughout), without dkimpy's parsing of the whole
message by regular expressions: for a 12 KB message, 0.1 ms of Python beside the RSA signature
instead of about 0.5 ms (2026-12-07). Anything else goes through `dkim.sign` itself. There,
dkimpy does RSA in pure Python (about 5.5 ms a 2048-bit signature, the delivery-and-flows note
§2.3); `cryptography` does the same signature in about 0.3 ms. dkimpy calls one function for
it, `dkim.RSASSA_PKCS1_v1_5_sign(hash, private_key)` (PKCS #1 v1.5 over the header hash, the
key as dkimpy's dict of numbers): `install_fast_rsa` replaces that name with a function that
gives the same bytes from `cryptography`, and `dkim.parse_pem_private_key` (pure-Python ASN.1
run on every signature) with the same parser cached per key. RSA PKCS #1 v1.5 is
deterministic, so the signature is byte-identical to stock dkimpy's; tests/delivery/test_dkim.py
asserts that, and that the seam is the one dkimpy calls, so an upgrade that moves it fails the
tests rather than going slow.

Keys live in `sending_domains` (one per account and domain, `tidings dkim create`), in PKCS #1
PEM as dkimpy reads them. `signer_for` finds an account's signer for a From domain (the domain
or a parent of it: `d=` may be an organisational domain and still align for DMARC), cached.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from dkim.canonicalization import CanonicalizationPolicy
from sqlalchemy.orm import Session

from tidings.delivery import repository
from tidings.delivery.mime import InvalidAddress, ascii_domain

# What the note (§2.3) says to sign; a header absent from a message is signed as absent, so
# nobody can add it on the way (a List-Unsubscribe, say).
SIGNED_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "reply-to",
    "feedback-id",
)
DEFAULT_SELECTOR = "tidings"
_SELECTOR = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")

# The seam: the stock function, kept to tell whether ours is installed and for the tests.
STOCK_RSA_SIGN = dkim.crypto.RSASSA_PKCS1_v1_5_sign
STOCK_PARSE_KEY = dkim.crypto.parse_pem_private_key
_HASHES: dict[str, hashes.HashAlgorithm] = {"sha256": hashes.SHA256(), "sha1": hashes.SHA1()}
_KEYS: dict[tuple[int, int], rsa.RSAPrivateKey] = {}
_KEYS_LOCK = threading.Lock()
fast_signatures = 0  # how many signatures went through cryptography (the tests read it)


def _cryptography_key(numbers: dict[str, int]) -> rsa.RSAPrivateKey:
    """The cryptography key for dkimpy's parsed numbers, built once (building checks the key)."""
    cache_key = (numbers["modulus"], numbers["privateExponent"])
    key = _KEYS.get(cache_key)
    if key is None:
        key = rsa.RSAPrivateNumbers(
            p=numbers["prime1"],
            q=numbers["prime2"],
            d=numbers["privateExponent"],
            dmp1=numbers["exponent1"],
            dmq1=numbers["exponent2"],
            iqmp=numbers["coefficient"],
            public_numbers=rsa.RSAPublicNumbers(e=numbers["publicExponent"], n=numbers["modulus"]),
        ).private_key()
        with _KEYS_LOCK:
            _KEYS[cache_key] = key
    return key


def _rsa_sign(digest: Any, private_key: dict[str, int]) -> bytes:
    """dkimpy's RSASSA_PKCS1_v1_5_sign(hash, private_key), done by cryptography."""
    global fast_signatures
    algorithm = _HASHES.get(str(digest.name).lower())
    if algorithm is None:  # a hash we do not map: dkimpy's own code
        return bytes(STOCK_RSA_SIGN(digest, private_key))
    signature = _cryptography_key(private_key).sign(digest.digest(), padding.PKCS1v15(), Prehashed(algorithm))
    fast_signatures += 1
    return signature


@lru_cache(maxsize=256)
def _parse_key(pem: bytes) -> dict[str, int]:
    """dkimpy's own PEM parser (pure-Python ASN.1, a third of a signature's time), once per key.
    dkimpy only reads the dict."""
    return dict(STOCK_PARSE_KEY(pem))


def install_fast_rsa() -> None:
    """Make dkimpy sign with cryptography and parse each key once (idempotent). Raises when
    dkimpy no longer has the functions it calls, so an upgrade that moves them is noticed at
    start, not as slow sends."""
    for name in ("RSASSA_PKCS1_v1_5_sign", "parse_pem_private_key"):
        if not callable(getattr(dkim, name, None)):
            raise RuntimeError(f"dkimpy no longer calls dkim.{name}: update tidings.delivery.dkim")
    dkim.RSASSA_PKCS1_v1_5_sign = _rsa_sign
    dkim.parse_pem_private_key = _parse_key


install_fast_rsa()


class DkimSigner:
    """Signs messages for one (domain, selector, key): `sign(message)` returns the message with
    its `DKIM-Signature` header first, relaxed/simple, over `SIGNED_HEADERS`.

    The header is the one `dkim.sign` writes (the same tags in the same order, folded by dkimpy's
    own `fold`, hashed by its own `hash_headers` and canonicalization), without dkimpy's costs that
    do not apply to a message Tidings built itself: its parsing of the whole message by regular
    expressions (the headers are split here, the body is taken as it is: the message is CRLF
    throughout), the canonicalization of headers that are not signed, and its own key parsing.
    tests/delivery/test_dkim.py checks the bytes against `dkim.sign`'s. A message that is not
    CRLF throughout, or whose header block this reading cannot split, goes through `dkim.sign`."""

    def __init__(self, domain: str, selector: str, private_key_pem: str | bytes) -> None:
        self.domain = ascii_domain(domain, "DKIM domain")
        self.selector = selector
        pem = private_key_pem.encode("ascii") if isinstance(private_key_pem, str) else private_key_pem
        self._pem = _pkcs1_pem(pem)
        key = serialization.load_pem_private_key(self._pem, password=None)
        assert isinstance(key, rsa.RSAPrivateKey)  # _pkcs1_pem refuses any other
        self._key = key
        self._domain = self.domain.encode("ascii")
        self._selector = selector.encode("ascii")
        self._headers = [name.encode("ascii") for name in SIGNED_HEADERS]
        self._fields_before_time = [
            (b"v", b"1"),
            (b"a", b"rsa-sha256"),
            (b"c", _CANON.to_c_value()),
            (b"d", self._domain),
            (b"i", b"@" + self._domain),
            (b"q", b"dns/txt"),
            (b"s", self._selector),
        ]
        self._h = (b"h", b" : ".join(self._headers))

    def signature(self, message: bytes, *, timestamp: int | None = None) -> bytes:
        """The `DKIM-Signature: ...\r\n` header for the message (`t=` is `timestamp`, else now)."""
        head, blank, body = message.partition(b"\r\n\r\n")
        headers = _split_headers(head + b"\r\n") if blank else None
        if headers is None or message.count(b"\n") != message.count(b"\r\n"):
            return self._stock(message, timestamp)
        global fast_signatures
        body_hash = base64.b64encode(hashlib.sha256(_CANON.canonicalize_body(body)).digest())
        stamp = str(int(time.time()) if timestamp is None else timestamp).encode("ascii")
        fields = [
            *self._fields_before_time,
            (b"t", stamp),
            self._h,
            (b"bh", body_hash),
            # dkimpy's placeholder: b= folds onto its own line, so the final header keeps the
            # whitespace of the one hashed.
            (b"b", b"0" * 60),
        ]
        value = dkim.fold(b"; ".join(b"=".join(f) for f in fields), namelen=len(_NAME), linesep=b"\r\n")
        value = dkim.RE_BTAG.sub(b"\\1", value)
        hasher = hashlib.sha256()
        for name, field in _selected(headers, self._headers):
            hasher.update(_relaxed(name, field))
        # The signature's own header, b= empty, hashed without its CRLF (RFC 6376 §3.7).
        hasher.update(_relaxed(_NAME, b" " + value)[:-2])
        signed = self._key.sign(hasher.digest(), padding.PKCS1v15(), Prehashed(_HASHES["sha256"]))
        fast_signatures += 1
        fields[-1] = (b"b", base64.b64encode(signed))
        value = b"; ".join(b"=".join(f) for f in fields) + b"\r\n"
        return _NAME + b": " + dkim.fold(value, namelen=len(_NAME), linesep=b"\r\n")

    def _stock(self, message: bytes, timestamp: int | None) -> bytes:
        if timestamp is not None:
            raise ValueError("a timestamp can only be given for a CRLF message")
        return bytes(
            dkim.sign(
                message,
                self._selector,
                self._domain,
                self._pem,
                canonicalize=(b"relaxed", b"simple"),
                include_headers=self._headers,
            )
        )

    def sign(self, message: bytes) -> bytes:
        return self.signature(message) + message


_NAME = b"DKIM-Signature"
_CANON = CanonicalizationPolicy.from_c_value(b"relaxed/simple")
_WSP = re.compile(rb"[\t ]+")
_HEADER_NAME = re.compile(rb"[\x21-\x39\x3b-\x7e]+")


def _relaxed(name: bytes, value: bytes) -> bytes:
    """One header in relaxed canonicalization (RFC 6376 §3.4.2), as dkimpy's `Relaxed` writes it:
    the name in lower case, the value unfolded, runs of WSP one space, stripped, then CRLF."""
    return name.lower() + b":" + _WSP.sub(b" ", value.replace(b"\r\n", b"")).strip() + b"\r\n"


def _selected(headers: list[tuple[bytes, bytes]], include: list[bytes]) -> list[tuple[bytes, bytes]]:
    """dkimpy's `select_headers`: for each name to sign, the last instance not yet taken."""
    by_name: dict[bytes, list[tuple[bytes, bytes]]] = {}
    for header in headers:
        by_name.setdefault(header[0].lower(), []).append(header)
    chosen = []
    for name in include:
        found = by_name.get(name)
        if found:
            chosen.append(found.pop())
    return chosen


def _split_headers(head: bytes) -> list[tuple[bytes, bytes]] | None:
    """`(name, value)` pairs as dkimpy's `rfc822_parse` makes them (the value keeps what follows
    the colon, continuation lines and their CRLFs); None for anything that reading would treat
    otherwise (a line without a field name, an mbox `From ` line)."""
    headers: list[list[bytes]] = []
    for line in head[:-2].split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            if not headers:
                return None
            headers[-1][1] += line + b"\r\n"
            continue
        name, colon, value = line.partition(b":")
        if not colon or not _HEADER_NAME.fullmatch(name):
            return None
        headers.append([name, value + b"\r\n"])
    return [(name, value) for name, value in headers]


def _pkcs1_pem(pem: bytes) -> bytes:
    """dkimpy reads PKCS #1 (`BEGIN RSA PRIVATE KEY`); a PKCS #8 key is converted."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise ValueError(f"not a PEM private key: {error}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the DKIM key must be an RSA key")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def generate_key(bits: int = 2048) -> tuple[str, str]:
    """A new RSA key: (the private key in PKCS #1 PEM, the DNS TXT record's value)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")
    return pem, txt_record(pem)


def txt_record(private_key_pem: str) -> str:
    """`v=DKIM1; k=rsa; p=...`: the public half (SubjectPublicKeyInfo, base64) as DNS publishes it."""
    key = serialization.load_pem_private_key(private_key_pem.encode("ascii"), password=None)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode('ascii')}"


@dataclass(frozen=True)
class DnsRecord:
    """What to publish for a sending domain: a TXT record `name` with `value`."""

    domain: str
    selector: str
    name: str  # "<selector>._domainkey.<domain>"
    value: str  # "v=DKIM1; k=rsa; p=..."

    def zone_value(self) -> str:
        """The value as a zone file writes it: quoted strings of at most 255 characters."""
        return " ".join(f'"{self.value[i : i + 255]}"' for i in range(0, len(self.value), 255))


def _record(domain: str, selector: str, private_key_pem: str) -> DnsRecord:
    return DnsRecord(domain, selector, f"{selector}._domainkey.{domain}", txt_record(private_key_pem))


# Sending domains: the service behind `tidings dkim create` and `tidings dkim show`.


def create_sending_domain(
    session: Session, account_id: str, domain: str, *, selector: str = DEFAULT_SELECTOR, bits: int = 2048
) -> DnsRecord:
    """Make a new key for the account's domain (replacing one it had) and return the record to
    publish. The caller commits. Raises ValueError on a bad domain or selector."""
    domain = _domain(domain)
    selector = selector.strip().lower()
    if not _SELECTOR.fullmatch(selector):
        raise ValueError(f"not a DKIM selector: {selector!r}")
    private_pem, _txt = generate_key(bits)
    repository.save_sending_domain(session, account_id, domain, selector, private_pem)
    _forget(account_id)
    return _record(domain, selector, private_pem)


def sending_domain_records(session: Session, account_id: str, domain: str | None = None) -> list[DnsRecord]:
    """The records to publish for the account's sending domains (one domain, or all)."""
    rows = repository.sending_domains(session, account_id, _domain(domain) if domain else None)
    return [_record(row.domain, row.selector, row.private_key_pem) for row in rows]


def _domain(domain: str) -> str:
    try:
        return ascii_domain(domain.strip().rstrip("."), "domain")
    except InvalidAddress as error:
        raise ValueError(str(error)) from None


# The worker's lookup: the signer of an account's From domain, cached.

CACHE_SECONDS = 60.0  # a key made in another process is used within this
_signers: dict[tuple[str, str], tuple[float, DkimSigner | None]] = {}
_signers_lock = threading.Lock()


def signer_for(session: Session, account_id: str, from_domain: str) -> DkimSigner | None:
    """The signer for mail from `from_domain` in the account: its `sending_domains` row for the
    domain, else for the closest parent domain; None when the account has no such key."""
    try:
        domain = ascii_domain(from_domain.strip().rstrip("."), "From")
    except InvalidAddress:
        return None
    now = time.monotonic()
    cached = _signers.get((account_id, domain))
    if cached is not None and cached[0] > now:
        return cached[1]
    labels = domain.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    rows = {row.domain: row for row in repository.sending_domains_among(session, account_id, candidates)}
    signer = None
    for candidate in candidates:  # the most specific first
        row = rows.get(candidate)
        if row is not None:
            signer = _signer(row.domain, row.selector, row.private_key_pem)
            break
    with _signers_lock:
        _signers[(account_id, domain)] = (now + CACHE_SECONDS, signer)
    return signer


_by_key: dict[tuple[str, str, str], DkimSigner] = {}


def _signer(domain: str, selector: str, pem: str) -> DkimSigner:
    key = (domain, selector, hashlib.sha256(pem.encode("ascii")).hexdigest())
    signer = _by_key.get(key)
    if signer is None:
        signer = _by_key[key] = DkimSigner(domain, selector, pem)
    return signer


def _forget(account_id: str) -> None:
    with _signers_lock:
        for key in [key for key in _signers if key[0] == account_id]:
            del _signers[key]
