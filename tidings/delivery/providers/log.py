"""The default SMS and push provider: each message written to the log and counted as sent.

Nothing leaves the machine; `tidings serve` shows what would have been sent.
"""

from __future__ import annotations

import structlog

from tidings.delivery.provider import OutboundMessage

log = structlog.get_logger("tidings.delivery")


class LogProvider:
    name = "log"
    concurrency = 16

    def __init__(self, channel: str) -> None:
        self.channel = channel

    async def send(self, message: OutboundMessage) -> str:
        log.info(
            "delivery.logged",
            channel=self.channel,
            account=message.account_id,
            send=message.send_id,
            to=message.recipient,
            content=message.content.decode("utf-8", "replace")[:500],
        )
        return f"log:{message.send_id}"

    async def close(self) -> None:
        return None
