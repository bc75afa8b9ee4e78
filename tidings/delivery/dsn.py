"""Reading what comes back to the return path: delivery status notifications (RFC 3464),
abuse reports (RFC 5965, ARF) and, as a fallback, the free-text bounces some servers still send.

Only Python's `email` package: a DSN's `message/delivery-status` part holds one block of
per-message fields and one block per recipient (`Action`, `Status`, `Final-Recipient`,
`Diagnostic-Code`); an ARF's `message/feedback-report` holds `Feedback-Type`. The third part
of either is the original message or its headers, where our `Message-ID` and
`X-Tidings-Send-Id` name the send. A free-text bounce is classified from its words as listmonk
does; an auto-reply (RFC 3834 sends them to the return path too) is not a bounce.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses
from enum import StrEnum

SEND_ID_HEADER = "X-Tidings-Send-Id"
# Where a receiver or a relay writes the address a message was delivered to.
_ADDRESS_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_REPLY_CODE = re.compile(r"(?:^|[\s;:(])([45])\d\d(?=[\s\-])")
# listmonk's words for a permanent failure, and ours for a temporary one.
_HARD_WORDS = re.compile(
    r"user unknown|unknown user|mailbox not found|mailbox unavailable|does not exist|doesn't exist|"
    r"no such user|no such mailbox|no such recipient|recipient rejected|address rejected|invalid recipient|"
    r"invalid address|account (?:has been )?disabled|unrouteable|unroutable|not our customer|"
    r"recipient not found|bad destination|host (?:or domain name )?not found",
    re.IGNORECASE,
)
_SOFT_WORDS = re.compile(
    r"mailbox (?:is )?full|over quota|quota exceeded|insufficient storage|try again later|"
    r"temporar(?:y|ily)|deferred|greylist|rate limit|too many (?:messages|connections)|timed? ?out",
    re.IGNORECASE,
)
_MESSAGE_ID_LINE = re.compile(r"^\s*Message-ID:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
_SEND_ID_LINE = re.compile(rf"^\s*{SEND_ID_HEADER}:\s*([0-9A-Za-z]{{26}})", re.IGNORECASE | re.MULTILINE)
_AUTO_REPLY_SUBJECT = re.compile(
    r"out of (?:the )?office|auto(?:matic)?[ -]?reply|vacation|abwesenheit", re.I
)


class BounceType(StrEnum):
    HARD = "hard"
    SOFT = "soft"


class ReportKind(StrEnum):
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    NONE = "none"  # not a report: an auto-reply, a delay notice, a success notice, noise


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient block of a DSN (or what a free-text bounce says)."""

    action: str  # failed, delayed, delivered, relayed, expanded
    recipient: str | None = None  # Final-Recipient's address
    original_recipient: str | None = None
    status: str | None = None  # 5.1.1
    diagnostic: str | None = None  # Diagnostic-Code, without its type
    classified: BounceType | None = None  # a free-text bounce: from its whole text

    @property
    def bounce_type(self) -> BounceType | None:
        if self.action.lower() != "failed":
            return None
        return self.classified or classify(self.status, self.diagnostic)


@dataclass(frozen=True)
class Report:
    kind: ReportKind
    recipients: list[RecipientStatus] = field(default_factory=list)
    feedback_type: str | None = None
    addresses: list[str] = field(default_factory=list)  # where the report was delivered (VERP)
    message_ids: list[str] = field(default_factory=list)  # the original's Message-ID
    send_ids: list[str] = field(default_factory=list)  # the original's X-Tidings-Send-Id
    complained_recipient: str | None = None  # ARF's Original-Rcpt-To


def classify(status: str | None, text: str | None) -> BounceType | None:
    """Hard or soft from an enhanced status code (5.x.x hard, 4.x.x soft; x.2.2, a full mailbox,
    is soft as Klaviyo counts it), else from an SMTP reply code in the text, else from its words."""
    for source in (status, text):
        match = _STATUS.search(source or "")
        if match and match.group(1) in "45":
            if match.group(2) == "2" and match.group(3) == "2":
                return BounceType.SOFT
            return BounceType.HARD if match.group(1) == "5" else BounceType.SOFT
    if text:
        reply = _REPLY_CODE.search(text)
        if reply:
            return BounceType.HARD if reply.group(1) == "5" else BounceType.SOFT
        if _SOFT_WORDS.search(text):
            return BounceType.SOFT
        if _HARD_WORDS.search(text):
            return BounceType.HARD
    return None


def parse(raw: bytes) -> Report:
    """What a message received at the return path says."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    delivery_status = _first_part(message, "message/delivery-status")
    feedback = _first_part(message, "message/feedback-report")
    original = _original(message)
    # Where the report went (a VERP return path), or else whom the original was from: an ARF
    # goes to the feedback-loop address, and names the return path in Original-Mail-From.
    addresses = _addresses(message, _ADDRESS_HEADERS)
    for part in (feedback, delivery_status):
        if part is not None:
            for block in _field_blocks(part)[:1]:
                for name in ("Original-Mail-From", "X-Postfix-Sender"):
                    addresses += [a for a in [_address_of(block.get(name))] if a]
    if original is not None:
        addresses += _addresses(original, ("Return-Path",))
    addresses = _unique(addresses)
    message_ids, send_ids = _references(original, message)
    base = {"addresses": addresses, "message_ids": message_ids, "send_ids": send_ids}
    if feedback is not None:
        fields = _field_blocks(feedback)
        report = fields[0] if fields else Message()
        feedback_type = (report.get("Feedback-Type") or "").strip().lower()
        kind = ReportKind.COMPLAINT if feedback_type in ("abuse", "fraud") else ReportKind.NONE
        rcpt = _address_of(report.get("Original-Rcpt-To"))
        return Report(kind, feedback_type=feedback_type or None, complained_recipient=rcpt, **base)  # type: ignore[arg-type]
    if delivery_status is not None:
        blocks = _field_blocks(delivery_status)[1:]  # the first block is about the message
        recipients = [
            RecipientStatus(
                action=(block.get("Action") or "").strip().lower(),
                recipient=_address_of(block.get("Final-Recipient")),
                original_recipient=_address_of(block.get("Original-Recipient")),
                status=(block.get("Status") or "").strip() or None,
                diagnostic=_unfold(_after_type(block.get("Diagnostic-Code"))),
            )
            for block in blocks
            if block.get("Action") or block.get("Final-Recipient")
        ]
        failed = any(r.action == "failed" for r in recipients)
        return Report(ReportKind.BOUNCE if failed else ReportKind.NONE, recipients, **base)  # type: ignore[arg-type]
    if _is_auto_reply(message) or not _from_mail_system(message):
        # A person's reply to the return path is not a bounce, whatever numbers it holds.
        return Report(ReportKind.NONE, **base)  # type: ignore[arg-type]
    text = _text_of(message)
    bounce_type = classify(None, text)
    if bounce_type is None:
        return Report(ReportKind.NONE, **base)  # type: ignore[arg-type]
    status = _STATUS.search(text)
    # The line that says why, which classifies the same way as the whole text.
    line = next((ln.strip() for ln in text.splitlines() if classify(None, ln) is bounce_type), "")
    recipient = RecipientStatus(
        action="failed",
        status=status.group(0) if status else None,
        diagnostic=line[:500] or None,
        classified=bounce_type,
    )
    return Report(ReportKind.BOUNCE, [recipient], **base)  # type: ignore[arg-type]


def _first_part(message: Message, content_type: str) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part
    return None


def _field_blocks(part: Message) -> list[Message]:
    """The header blocks of a delivery-status or feedback-report part, however it was parsed."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    blocks = re.split(r"\r?\n\s*\r?\n", _decoded(part).strip())
    return [HeaderParser().parsestr(block + "\n") for block in blocks if block.strip()]


def _original(message: Message) -> Message | None:
    """The returned original: a message/rfc822 part, or text/rfc822-headers read as headers."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/rfc822-headers", "message/global") and part.is_multipart():
            inner = part.get_payload(0)
            if isinstance(inner, Message):
                return inner
        if kind in ("text/rfc822-headers", "message/rfc822-headers", "text/rfc822"):
            return HeaderParser().parsestr(_decoded(part))
    return None


def _references(original: Message | None, message: Message) -> tuple[list[str], list[str]]:
    message_ids: list[str] = []
    send_ids: list[str] = []
    if original is not None:
        if original.get("Message-ID"):
            message_ids.append(str(original.get("Message-ID")).strip())
        if original.get(SEND_ID_HEADER):
            send_ids.append(str(original.get(SEND_ID_HEADER)).strip())
    if not message_ids and not send_ids:
        # A mangled bounce quotes the original as text, or not at all.
        text = _text_of(message)
        message_ids = [m for m in _MESSAGE_ID_LINE.findall(text) if m != message.get("Message-ID")]
        send_ids = _SEND_ID_LINE.findall(text)
    return _unique(message_ids), _unique(s.upper() for s in send_ids)


def _addresses(message: Message, headers: tuple[str, ...]) -> list[str]:
    found = []
    for header in headers:
        for value in message.get_all(header) or []:
            found += [address for _name, address in getaddresses([str(value)]) if address]
    return _unique(found)


def _text_of(message: Message) -> str:
    chunks = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            chunks.append(_decoded(part))
    return "\n".join(chunks)[:200_000]


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    try:
        return payload.decode(part.get_content_charset() or "utf-8", "replace")
    except LookupError:  # an unknown charset
        return payload.decode("utf-8", "replace")


def _is_auto_reply(message: Message) -> bool:
    auto = (message.get("Auto-Submitted") or "").strip().lower()
    if auto and auto != "no":
        return not _looks_like_failure(message)
    if (message.get("Precedence") or "").strip().lower() == "auto_reply" or message.get("X-Autoreply"):
        return True
    return bool(_AUTO_REPLY_SUBJECT.search(str(message.get("Subject") or "")))


def _from_mail_system(message: Message) -> bool:
    """A non-delivery notice comes with a null return path (RFC 5321 §4.5.5) from a mail system
    (MAILER-DAEMON, postmaster), and says so in its subject."""
    if (message.get("Return-Path") or "").strip() == "<>":
        return True
    sender = " ".join(str(v) for v in (message.get("From"), message.get("Sender")) if v).lower()
    if any(name in sender for name in ("mailer-daemon", "postmaster", "mail delivery")):
        return True
    return _looks_like_failure(message)


def _looks_like_failure(message: Message) -> bool:
    """Bounces are auto-generated too (`Auto-Submitted: auto-replied` on some): their subject says so."""
    subject = str(message.get("Subject") or "").lower()
    return any(
        word in subject for word in ("undeliver", "failure", "returned", "delivery status", "not delivered")
    )


def _address_of(value: str | None) -> str | None:
    """`rfc822; user@example.com` → `user@example.com`."""
    if not value:
        return None
    address = _after_type(value) or ""
    address = address.strip().strip("<>").strip()
    return address.lower() or None


def _after_type(value: str | None) -> str | None:
    if value is None:
        return None
    kind, sep, rest = str(value).partition(";")
    return rest.strip() if sep else kind.strip()


def _unfold(value: str | None) -> str | None:
    return re.sub(r"\s*\r?\n\s*", " ", value).strip()[:1000] if value else None


def _unique(values: object) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:  # type: ignore[attr-defined]
        if value:
            seen.setdefault(str(value), None)
    return list(seen)
