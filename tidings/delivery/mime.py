"""The bytes of an email: multipart/alternative text and html, with the headers a bulk sender
needs (a deterministic Message-ID, List-Unsubscribe with List-Unsubscribe-Post, Feedback-ID).

Every header value is cleaned of CR and LF first: a subject or a display name that came from
profile data must never add a header (header injection).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

_BREAKS = re.compile(r"[\r\n\x00]+")


def clean_header(value: str) -> str:
    """One line: CR, LF and NUL become a space."""
    return _BREAKS.sub(" ", value).strip()


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
    reply_to: str | None = None
    list_unsubscribe_url: str | None = None  # the one-click URL (RFC 8058)
    list_unsubscribe_mailto: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # X-Tidings-Send-Id, Feedback-ID ...


def _address(email: str, name: str | None) -> Address:
    local, _, domain = email.rpartition("@")
    return Address(display_name=clean_header(name or ""), username=local, domain=domain)


def build_email(parts: EmailParts) -> bytes:
    """The message as sent (CRLF line ends), before DKIM signing."""
    message = EmailMessage(policy=SMTP)
    message["Message-ID"] = parts.message_id
    message["Date"] = format_datetime(parts.date.astimezone(dt.UTC))
    message["From"] = _address(parts.from_email, parts.from_name)
    message["To"] = _address(parts.to_email, parts.to_name)
    if parts.reply_to:
        message["Reply-To"] = clean_header(parts.reply_to)
    message["Subject"] = clean_header(parts.subject)
    if parts.list_unsubscribe_url or parts.list_unsubscribe_mailto:
        targets = [f"<{t}>" for t in (parts.list_unsubscribe_url, parts.list_unsubscribe_mailto) if t]
        message["List-Unsubscribe"] = ", ".join(targets)
        if parts.list_unsubscribe_url:
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for name, value in parts.headers.items():
        message[clean_header(name)] = clean_header(value)
    message.set_content(parts.text or " ", subtype="plain", charset="utf-8")
    message.add_alternative(parts.html, subtype="html", charset="utf-8")
    return message.as_bytes()
