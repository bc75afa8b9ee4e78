"""The inbound SMTP listener for the return-path domain (aiosmtpd).

It accepts mail only for addresses at the bounce domain (`TIDINGS_BOUNCE_DOMAIN`): the VERP
return paths and any feedback-loop address there; anything else is refused at RCPT TO with 550,
so it is no open relay. Each message is stored with its envelope recipients and its processing
job enqueued, committed, and only then answered with 250; if the database cannot take it the
answer is 451 and the sender tries again later.
"""

from __future__ import annotations

import asyncio

import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tidings.db.session import Database
from tidings.delivery import inbound

MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # a bounce quotes the original; 10 MB is plenty
log = structlog.get_logger("tidings.delivery.listener")


class BounceHandler:
    def __init__(self, db: Database, domain: str) -> None:
        self.db = db
        self.domain = domain.strip().lower().lstrip("@")

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.rpartition("@")[2].lower() != self.domain:
            return f"550 5.1.1 <{address[:200]}>: this server takes mail for the bounce domain only"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape")
        try:
            report_id = await asyncio.to_thread(self._store, raw, list(envelope.rcpt_tos))
        except Exception:
            log.exception("delivery.listener_store_failed", size=len(raw))
            return "451 4.3.0 Could not store the message; try again later"
        return f"250 2.0.0 OK: queued as {report_id or 'duplicate'}"

    def _store(self, raw: bytes, rcpt_tos: list[str]) -> str | None:
        with self.db.write() as db_session:
            return inbound.store_message(db_session, "smtp", raw, rcpt_tos)


def start_listener(db: Database, domain: str, host: str, port: int) -> Controller:
    """Start the listener in its own thread; the caller stops it with `.stop()`."""
    controller = Controller(
        BounceHandler(db, domain), hostname=host, port=port, data_size_limit=MAX_MESSAGE_BYTES
    )
    controller.start()
    log.info("delivery.listener_started", host=host, port=controller.port, domain=domain)
    return controller
