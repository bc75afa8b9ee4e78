"""The bytes of an email: multipart/alternative text and html, with the headers a bulk sender
needs (a deterministic Message-ID, List-Unsubscribe with List-Unsubscribe-Post (RFC 8058),
Feedback-ID, X-Tidings-Send-Id).

The bytes are written directly rather than through `email.message.EmailMessage` (0.48 ms a
message, most of a send's budget): every header is either plain printable ASCII folded at
spaces, or RFC 2047 encoded-words (`=?utf-8?b?...?=`); each body is 7bit when it is ASCII with
short lines, else quoted-printable, so the message is 7-bit clean and no line passes 998
octets. The encodings of values repeated across a campaign (subject, sender name) are cached.

Header injection is impossible by construction: CR, LF and NUL in a subject, a display name, a
reply-to or a custom header become a space before anything is written, and addresses are
checked against what an address may contain (`InvalidAddress` otherwise). An address whose
domain is internationalised is sent in its IDNA (punycode) form; a non-ASCII local part needs
SMTPUTF8, which Tidings does not speak, and is refused with `InvalidAddress`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import idna

_BREAKS = re.compile(r"[\r\n\x00]+")
_BLANKS = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")  # whitespace and control characters
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")  # printable ASCII but colon (RFC 5322 §3.6.8)
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*")  # a display name safe without quotes
_HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_URI = re.compile(r"[\x21-\x7e]+")
_FOLD_AT = 78  # where header lines are folded (RFC 5322 §2.1.1 "SHOULD")
_LINE_MAX = 998  # the hard limit of a line, without CRLF
_WORD_OCTETS = 45  # raw octets per encoded-word: 60 base64 chars, 75 with =?utf-8?b?...?=


class InvalidAddress(ValueError):
    """An address the message cannot carry (malformed, or a non-ASCII local part: SMTPUTF8)."""


def clean_header(value: str) -> str:
    """One line: CR, LF and NUL become a space."""
    return _BREAKS.sub(" ", value).strip()


NAME_MAX = 100  # characters of a display name


def clean_name(value: str) -> str:
    """A display name: one line, each run of whitespace or control characters one space (as
    mail clients show a name; Python's parser collapses them inside encoded-words too), at most
    100 characters."""
    return _BLANKS.sub(" ", value)[:NAME_MAX].strip()


@dataclass(frozen=True)
class EmailParts:
    message_id: str  # "<...@domain>"
    from_email: str
    to_email: str
    subject: str
    html: str
    text: str
    date: dt.datetime
    from_name: str | None = None
    to_name: str | None = None
    reply_to: str | None = None  # an address
    reply_to_name: str | None = None
    list_unsubscribe_url: str | None = None  # the one-click URL (RFC 8058), https
    list_unsubscribe_mailto: str | None = None  # "mailto:..." (or a bare address)
    feedback_id: str | None = None  # "{campaign_or_flow}:{message}:{account}:tidings"
    send_id: str | None = None  # X-Tidings-Send-Id: the ledger row
    headers: Mapping[str, str] = field(default_factory=dict)  # any other header, in order


def build_email(parts: EmailParts) -> bytes:
    """The message as sent (CRLF line ends, 7-bit), before DKIM signing."""
    boundary = "=_" + hashlib.sha1(parts.message_id.encode("utf-8", "replace")).hexdigest()[:28]
    head = [
        _field("Message-ID", _message_id(parts.message_id)),
        _field("Date", _date(parts.date)),
        _field("From", _mailbox(parts.from_email, parts.from_name, "From")),
        _field("To", _mailbox(parts.to_email, parts.to_name, "To")),
    ]
    if parts.reply_to:
        head.append(_field("Reply-To", _mailbox(parts.reply_to, parts.reply_to_name, "Reply-To")))
    head.append(_unstructured("Subject", parts.subject))
    if parts.list_unsubscribe_url or parts.list_unsubscribe_mailto:
        head.append(_list_unsubscribe(parts.list_unsubscribe_url, parts.list_unsubscribe_mailto))
        if parts.list_unsubscribe_url:
            head.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
    if parts.feedback_id:
        head.append(_unstructured("Feedback-ID", parts.feedback_id))
    if parts.send_id:
        head.append(_unstructured("X-Tidings-Send-Id", parts.send_id))
    for name, value in parts.headers.items():
        head.append(_unstructured(_field_name(name), value))
    head.append("MIME-Version: 1.0\r\n")
    head.append(f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n')
    text_body = _body(parts.text, "plain", boundary)
    html_body = _body(parts.html, "html", boundary)
    return b"".join(
        (
            "".join(head).encode("ascii"),
            b"\r\n--",
            boundary.encode("ascii"),
            b"\r\n",
            text_body,
            b"\r\n--",
            boundary.encode("ascii"),
            b"\r\n",
            html_body,
            b"\r\n--",
            boundary.encode("ascii"),
            b"--\r\n",
        )
    )


# Headers


def _field(name: str, value: str) -> str:
    return f"{name}: {value}\r\n"


def _field_name(name: str) -> str:
    name = clean_header(name)
    if not _FIELD_NAME.fullmatch(name) or len(name) > 76:
        raise ValueError(f"not a header name: {name!r}")
    return name


def _message_id(value: str) -> str:
    value = clean_header(value)
    if not re.fullmatch(r"<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>", value) or len(value) > 900:
        raise ValueError(f"not a Message-ID: {value!r}")
    return value


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _date(moment: dt.datetime) -> str:
    """RFC 5322 date in UTC (a naive datetime is taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} {moment.year:04d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} +0000"
    )


@lru_cache(maxsize=4096)
def _unstructured(name: str, raw: str) -> str:
    """`Name: value\\r\\n`, folded; plain when the value is printable ASCII that no parser would
    take for an encoded-word, else RFC 2047 encoded-words (which may be split anywhere)."""
    value = clean_header(raw)
    if _PRINTABLE.fullmatch(value) and "=?" not in value and "  " not in value:
        folded = _fold_plain(f"{name}: {value}")
        if folded is not None:
            return folded + "\r\n"
    return _fold_words(f"{name}:", _encoded_words(value)) + "\r\n"


def _fold_plain(line: str) -> str | None:
    """Fold at spaces to about 78 characters; None when a piece would pass 998 anyway."""
    if len(line) <= _FOLD_AT:
        return line
    lines: list[str] = []
    current = ""
    for word in line.split(" "):
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= _FOLD_AT:
            current += " " + word
        else:
            lines.append(current)
            current = word
        if len(current) > _LINE_MAX - 1:
            return None
    lines.append(current)
    return "\r\n ".join(lines)


def _fold_words(start: str, words: list[str]) -> str:
    """`start` then the words, one space between, a line break where a line would pass 78."""
    lines = [start]
    for index, word in enumerate(words):
        if index and len(lines[-1]) + 1 + len(word) > _FOLD_AT:
            lines.append(word)
        else:
            lines[-1] += " " + word
    return "\r\n ".join(lines)


def _encoded_words(value: str) -> list[str]:
    """`=?utf-8?b?...?=` words of at most 75 characters, split between characters, never inside
    one (RFC 2047 §5: each word must decode on its own)."""
    words: list[str] = []
    chunk = bytearray()
    for char in value:
        octets = char.encode("utf-8", "replace")
        if len(chunk) + len(octets) > _WORD_OCTETS:
            words.append(_b_word(bytes(chunk)))
            chunk.clear()
        chunk += octets
    if chunk or not words:
        words.append(_b_word(bytes(chunk)))
    return words


def _b_word(octets: bytes) -> str:
    return f"=?utf-8?b?{base64.b64encode(octets).decode('ascii')}?="


@lru_cache(maxsize=4096)
def _mailbox(email: str, name: str | None, header: str) -> str:
    """`"Display Name" <local@domain>` (the name quoted or encoded), or `<local@domain>`."""
    address = _address(email, header)
    display = clean_name(name or "")
    if not display:
        return f"<{address}>"
    if _ATOM.fullmatch(display) and "=?" not in display:
        phrase = display
    elif _PRINTABLE.fullmatch(display) and "=?" not in display:
        phrase = '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        # One encoded-word, even past RFC 2047's 75 characters: parsers (Python's among them)
        # put a space between two encoded-words of a phrase where RFC 2047 says none is, so a
        # long name split in two would come back with a space inside. 100 characters of at most
        # 4 octets stay well inside a 998-octet line.
        phrase = _b_word(display.encode("utf-8", "replace"))
    return f"{phrase}\r\n <{address}>" if len(phrase) + len(address) > 60 else f"{phrase} <{address}>"


def _address(email: str, header: str) -> str:
    """The addr-spec as written in the message: the domain in IDNA form; a local part that is
    not a dot-atom quoted; anything that cannot be written refused."""
    local, at, domain = email.strip().rpartition("@")
    if not at or not local or not domain:
        raise InvalidAddress(f"{header}: not an email address: {email!r}")
    if not local.isascii():
        raise InvalidAddress(
            f"{header}: a non-ASCII local part needs SMTPUTF8, which is not supported: {email!r}"
        )
    if not _DOT_ATOM.fullmatch(local):
        if not _PRINTABLE.fullmatch(local) or len(local) > 64:
            raise InvalidAddress(f"{header}: not an email address: {email!r}")
        local = '"' + local.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{local}@{ascii_domain(domain, header)}"


@lru_cache(maxsize=4096)
def ascii_domain(domain: str, header: str = "address") -> str:
    """The domain as DNS and SMTP know it: an internationalised one in punycode (IDNA 2008 with
    UTS 46 mapping), lower case."""
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as error:
            raise InvalidAddress(f"{header}: not a domain: {domain!r} ({error})") from None
    labels = domain.lower().split(".")
    if len(domain) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise InvalidAddress(f"{header}: not a domain: {domain!r}")
    return ".".join(labels)


def _list_unsubscribe(url: str | None, mailto: str | None) -> str:
    targets = []
    if url:
        url = clean_header(url)
        if not _URI.fullmatch(url) or ">" in url or not url.startswith(("https://", "http://")):
            raise ValueError(f"not a List-Unsubscribe URL: {url!r}")
        targets.append(f"<{url}>")
    if mailto:
        mailto = clean_header(mailto)
        if not mailto.startswith("mailto:"):
            mailto = "mailto:" + _address(mailto, "List-Unsubscribe")
        if not _URI.fullmatch(mailto) or ">" in mailto:
            raise ValueError(f"not a List-Unsubscribe mailto: {mailto!r}")
        targets.append(f"<{mailto}>")
    line = "List-Unsubscribe: " + ",\r\n ".join(targets)
    if any(len(piece) > _LINE_MAX for piece in line.split("\r\n")):
        raise ValueError("List-Unsubscribe URL longer than a line may be")
    return line + "\r\n"


# Bodies


def _body(content: str, subtype: str, boundary: str) -> bytes:
    """One part, its headers and body: 7bit when ASCII with lines of at most 998 octets (and no
    boundary inside), else quoted-printable (which never holds "=_", so never the boundary)."""
    if "\r" in content:
        content = content.replace("\r\n", "\n").replace("\r", "\n")
    if (
        content.isascii()
        and (len(content) <= _LINE_MAX or max(map(len, content.split("\n"))) <= _LINE_MAX)
        and boundary not in content
    ):
        body = content.replace("\n", "\r\n").encode("ascii")
        encoding = "7bit"
    else:
        body = binascii.b2a_qp(content.encode("utf-8", "replace"), istext=True).replace(b"\n", b"\r\n")
        encoding = "quoted-printable"
    return b"".join(
        (
            b"Content-Type: text/",
            subtype.encode("ascii"),
            b'; charset="utf-8"\r\nContent-Transfer-Encoding: ',
            encoding.encode("ascii"),
            b"\r\n\r\n",
            body,
        )
    )
