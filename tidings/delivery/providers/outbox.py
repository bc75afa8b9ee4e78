"""The default email provider: each message a `.eml` file in a folder, so `make run` delivers
with no relay and a user can open what was sent in any mail client.

`<outbox>/<yyyy-mm-dd>/<send id>.eml`, written to a temporary file, flushed to disk and renamed
into place, so a file that exists is whole. A resend of the same row replaces its file with
the same bytes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path

from tidings.delivery.provider import OutboundMessage, RetryableSendError


class OutboxProvider:
    name = "outbox"

    def __init__(self, directory: str | os.PathLike[str], *, concurrency: int = 4) -> None:
        self.directory = Path(directory).resolve()
        self.concurrency = concurrency

    async def send(self, message: OutboundMessage) -> str:
        try:
            return await asyncio.to_thread(self._write, message)
        except OSError as error:  # a full or unwritable disk: the message waits, nothing is lost
            raise RetryableSendError("outbox not writable", str(error)) from error

    def _write(self, message: OutboundMessage) -> str:
        folder = self.directory / dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{message.send_id}.eml"
        partial = folder / f".{message.send_id}.eml.part"
        with open(partial, "wb") as out:
            out.write(message.content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
        return str(path)

    async def close(self) -> None:
        return None
