"""The delivery worker: takes due ledger rows, sends them, records what happened.

One thread with its own event loop, three steps in a pipeline:

1. claim (a write transaction, committed before any provider call): due `planned` rows of
   every account, oldest first, locked; the gate (consent, smart sending, quiet hours); the
   message rendered and stored once; the rows `sending` with a lease;
2. send: each claimed row handed to its channel's provider, up to the provider's concurrency
   at once (an SMTP pool's connections, an HTTP client's connections);
3. settle: outcomes committed in groups (whatever arrived while the last commit ran), each
   with its event (`tidings.delivery.outcomes`); a provider slot is held until its message's
   outcome is committed.

A crash anywhere leaves rows `sending` whose lease runs out; the janitor then resends email
(the same bytes, the same Message-ID) and marks SMS and push `unknown`. So a kill between the
provider's acceptance and the settle commit makes at most one duplicate per message in flight,
and nothing is lost. Rows planned in this process wake the worker at once; others are seen
within `TIDINGS_JOB_POLL_INTERVAL` (at most half a second).

Failpoints (`TIDINGS_FAILPOINTS=after_claim_commit:0.01,after_provider_ack:0.02`, tests and the
crash benchmark only) kill the process with SIGKILL at that point with that probability.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session

from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.session import Database
from tidings.delivery import gate, outcomes, providers, service, sources
from tidings.delivery.compose import Composer
from tidings.delivery.messages import MessageDefinition
from tidings.delivery.provider import Provider, RetryableSendError, SendError
from tidings.delivery.service import Claim, Skip, SkipReason
from tidings.delivery.tables import Channel, MessageSend

log = structlog.get_logger("tidings.delivery")

SETTLE_MAX = 200  # outcomes in one settle commit
# How long a settle commit waits for the outcomes of messages still with their provider: a
# commit costs about the same for 1 outcome as for 30 (its events' bookkeeping is per batch), and
# without the wait SMTP outcomes, arriving one by one, were committed a dozen at a time.
SETTLE_LINGER = 0.02

# Set after a commit that planned sends, so this process's workers look at once.
wakeup = threading.Event()


@event.listens_for(Session, "after_commit")
def _wake_delivery(session: Session) -> None:
    if session.info.pop(service.PLANNED_FLAG, False):
        wakeup.set()


class Failpoints:
    """Kill the process at named points with a probability (crash tests only)."""

    def __init__(self, spec: str | None) -> None:
        self.odds: dict[str, float] = {}
        for item in (spec or "").split(","):
            name, _, odds = item.partition(":")
            if name.strip():
                self.odds[name.strip()] = float(odds or 1)
        self._random = random.Random(os.getpid())

    def __call__(self, name: str) -> None:
        odds = self.odds.get(name)
        if odds and self._random.random() < odds:
            os.kill(os.getpid(), signal.SIGKILL)


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        settings: Settings | None = None,
        *,
        index: int = 0,
        providers_by_channel: dict[Channel, Provider] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings or db.settings
        self.name = f"delivery:{os.getpid()}:{index}"
        self._providers: dict[Channel, Provider] = dict(providers_by_channel or {})
        self._limits: dict[Channel, asyncio.Semaphore] = {}
        self._with_provider = 0  # sends holding a provider slot whose outcome is not queued yet
        self._unavailable: set[Channel] = set()  # channels whose provider could not be built
        self.full = False  # the last claim found as many due rows as it asked for
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failpoint = Failpoints(os.environ.get("TIDINGS_FAILPOINTS"))

    # ------------------------------------------------------------------ life cycle

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name=f"tidings-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_forever(self) -> None:
        log.info("delivery.worker_started", worker=self.name)
        asyncio.run(self._run())
        log.info("delivery.worker_stopped", worker=self.name)

    async def _run(self) -> None:
        settle_queue: asyncio.Queue[_Pending] = asyncio.Queue()
        settler = asyncio.create_task(self._settle_loop(settle_queue))
        sending: dict[Channel, set[asyncio.Task[None]]] = {channel: set() for channel in Channel}
        try:
            while not self._stop.is_set():
                wants = self._wants(sending)
                saturated = any(limit <= 0 for _, limit in wants)
                wanted = [(channels, limit) for channels, limit in wants if limit > 0]
                claims: list[Claim] = []
                if wanted:
                    try:
                        claims = await asyncio.to_thread(self.claim_wanted, wanted)
                    except Exception:
                        log.exception("delivery.claim_failed", worker=self.name)
                        await asyncio.sleep(1.0)
                        continue
                for held in claims:
                    task = asyncio.create_task(self._send(held, settle_queue))
                    bucket = sending[held.message.channel]
                    bucket.add(task)
                    task.add_done_callback(bucket.discard)
                saturated = saturated or (bool(wanted) and self.full)
                running = _all(sending)
                if saturated and running:
                    # More may be due: claim again as soon as a send frees room.
                    interval = min(self.settings.job_poll_interval, 0.5)
                    await asyncio.wait(running, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
                elif not saturated:
                    await self._pause()
            if running := _all(sending):
                await asyncio.wait(running)
        finally:
            await settle_queue.put(_STOP)
            await settler
            await self._close_providers()

    def _wants(self, sending: dict[Channel, set[asyncio.Task[None]]]) -> list[tuple[list[Channel], int]]:
        """What to claim now. Email: up to a batch ahead of its connections (a row claimed and
        not yet sent when the process dies is simply sent again). SMS and push: no more than
        their provider's free slots, since a row caught in `sending` by a crash ends `unknown`
        and is never sent: only the messages really in the air may end so. A channel whose
        provider cannot be built (misconfigured) is not claimed: its rows wait, planned."""
        wants: list[tuple[list[Channel], int]] = []
        for channel in Channel:
            provider = self._available(channel)
            if provider is None:
                continue
            if channel is Channel.EMAIL:
                batch = self.settings.delivery_batch
                room = batch - len(sending[channel])
                if room < max(1, batch // 2) and sending[channel]:
                    room = 0
            else:
                room = max(1, provider.concurrency) - len(sending[channel])
            wants.append(([channel], room))
        return wants

    def _available(self, channel: Channel) -> Provider | None:
        try:
            provider = self.provider(channel)
        except Exception as error:
            if channel not in self._unavailable:
                log.error("delivery.provider_unavailable", channel=channel, error=str(error))
                self._unavailable.add(channel)
            return None
        self._unavailable.discard(channel)
        return provider

    async def _pause(self) -> None:
        """Until a commit in this process planned a send, or the poll interval passed."""
        deadline = time.monotonic() + min(self.settings.job_poll_interval, 0.5)
        while time.monotonic() < deadline and not self._stop.is_set():
            if wakeup.is_set():
                wakeup.clear()
                return
            await asyncio.sleep(0.02)

    async def _close_providers(self) -> None:
        for provider in self._providers.values():
            try:
                await provider.close()
            except Exception:
                log.exception("delivery.provider_close_failed", provider=provider.name)

    async def drain(self, rounds: int) -> int:
        """Claim, send and settle until nothing is due (at most `rounds` batches)."""
        total = 0
        settle_queue: asyncio.Queue[_Pending] = asyncio.Queue()
        settler = asyncio.create_task(self._settle_loop(settle_queue))
        try:
            for _ in range(rounds):
                channels = [channel for channel in Channel if self._available(channel) is not None]
                claims = await asyncio.to_thread(self.claim_batch, self.settings.delivery_batch, channels)
                if not claims:
                    break
                await asyncio.gather(*(self._send(held, settle_queue) for held in claims))
                total += len(claims)
        finally:
            await settle_queue.put(_STOP)
            await settler
            await self._close_providers()
        return total

    # ------------------------------------------------------------------ claim

    def claim_batch(self, limit: int, channels: Sequence[Channel] | None = None) -> list[Claim]:
        """Claim, gate and render up to `limit` due rows (of `channels`, or of every channel);
        committed before returning."""
        return self.claim_wanted([(list(channels) if channels is not None else None, limit)])

    def claim_wanted(self, wants: Sequence[tuple[list[Channel] | None, int]]) -> list[Claim]:
        """Each (channels, limit) claimed, gated and rendered, in one transaction committed
        before returning (an idle worker costs one short write transaction a poll). Sets
        `self.full`: whether any of them found as many due rows as it asked for."""
        definitions: dict[str, MessageDefinition] = {}
        claims: list[Claim] = []
        self.full = False
        with self.db.write() as session:
            composer = Composer(session, self.settings, definitions)

            def check(session: Session, rows: Sequence[MessageSend], now: Any) -> dict[str, Any]:
                verdicts = _gate(session, rows, now, definitions)
                composer.prefetch([row for row in rows if row.id not in verdicts])
                return verdicts

            for channels, limit in wants:
                taken = service.claim(
                    session,
                    None,
                    composer,
                    gate=check,
                    limit=limit,
                    lease_seconds=self.settings.delivery_lease_seconds,
                    channels=channels,
                )
                claims += taken
                self.full = self.full or taken.examined >= limit
        if claims:
            self.failpoint("after_claim_commit")
        return claims

    # ------------------------------------------------------------------ send

    def provider(self, channel: Channel) -> Provider:
        if channel not in self._providers:
            self._providers[channel] = providers.build(self.settings, channel)
        return self._providers[channel]

    async def _send(self, held: Claim, out: asyncio.Queue[_Pending]) -> None:
        """Send one claimed row and wait until its outcome is committed. The provider's slot is
        held until then, so at most one accepted-but-unrecorded message per slot (per SMTP
        connection) can be in the air when the process dies: the bound on duplicates."""
        channel = held.message.channel
        try:
            provider = self.provider(channel)
        except Exception as error:  # misconfigured: the rows wait until it is fixed
            log.exception("delivery.provider_unavailable", channel=channel)
            error_ = RetryableSendError("provider unavailable", str(error))
            await self._record(out, outcomes.Attempt(held, error=error_))
            return
        limit = self._limits.setdefault(channel, asyncio.Semaphore(max(1, provider.concurrency)))
        async with limit:
            self._with_provider += 1
            try:
                ref = await provider.send(held.message)
            except SendError as error:
                attempt = outcomes.Attempt(held, error=error)
            except Exception as error:  # a provider bug must not lose the row: it is retried
                log.exception("delivery.provider_failed", provider=provider.name, send=held.send_id)
                attempt = outcomes.Attempt(held, error=RetryableSendError("provider error", repr(error)))
            else:
                self.failpoint("after_provider_ack")
                attempt = outcomes.Attempt(held, provider_ref=ref)
            finally:
                self._with_provider -= 1
            await self._record(out, attempt)

    async def _record(self, out: asyncio.Queue[_Pending], attempt: outcomes.Attempt) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await out.put(_Pending(attempt, done))
        await done

    # ------------------------------------------------------------------ settle

    async def _settle_loop(self, queue: asyncio.Queue[_Pending]) -> None:
        """Commit outcomes as they come, in groups: whatever arrived while the last commit ran,
        and the outcomes of the messages still with their provider if they come within
        SETTLE_LINGER, up to SETTLE_MAX at once."""
        stopping = False
        while not stopping:
            first = await queue.get()
            if first is _STOP:
                break
            batch = [first]
            deadline = time.monotonic() + SETTLE_LINGER
            while len(batch) < SETTLE_MAX:
                if queue.empty():
                    wait = deadline - time.monotonic()
                    if self._with_provider <= 0 or wait <= 0:
                        break
                    try:
                        item = await asyncio.wait_for(queue.get(), wait)
                    except TimeoutError:
                        break
                else:
                    item = queue.get_nowait()
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            await self._settle([p.attempt for p in batch])
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_result(None)

    async def _settle(self, batch: list[outcomes.Attempt]) -> None:
        for attempt in range(5):
            try:
                await asyncio.to_thread(self._settle_now, batch)
                self.failpoint("after_outcome_commit")
                return
            except Exception:
                log.exception("delivery.settle_failed", worker=self.name, attempt=attempt + 1)
                await asyncio.sleep(min(2.0**attempt, 10.0))
        # The rows stay `sending`; the janitor settles them when their lease runs out.

    def _settle_now(self, batch: list[outcomes.Attempt]) -> None:
        with self.db.write() as session:
            outcomes.settle(session, batch, now=utcnow())


@dataclass(frozen=True)
class _Pending:
    attempt: outcomes.Attempt
    done: asyncio.Future[None]


_STOP: Any = object()


def _all(sending: dict[Channel, set[asyncio.Task[None]]]) -> set[asyncio.Task[None]]:
    return set().union(*sending.values())


def _gate(
    session: Session, rows: Sequence[MessageSend], now: Any, definitions: dict[str, MessageDefinition]
) -> dict[str, Skip | Any]:
    """Resolve each row's definition (kept for the composer), then the gate's verdicts."""
    verdicts: dict[str, Skip | Any] = {}
    cache: dict[tuple[str, str, str | None, str | None], MessageDefinition | None] = {}
    gated = []
    for row in rows:
        variation = (row.context or {}).get("$variation")  # planned with an A/B variation
        variation = str(variation) if variation is not None else None
        key = (row.account_id, row.source_kind, row.source_id, variation)
        if key not in cache:
            cache[key] = sources.resolve(session, row.account_id, row.source_kind, row.source_id, variation)
        definition = cache[key]
        if definition is None:
            verdicts[row.id] = Skip(SkipReason.EMAIL_CANCELLED, "the message no longer exists")
            continue
        if definition.channel != row.channel:
            verdicts[row.id] = Skip(SkipReason.EMAIL_CANCELLED, f"the message is for {definition.channel}")
            continue
        definitions[row.id] = definition
        gated.append(gate.Gated(row, definition))
    verdicts.update(gate.check(session, gated, now))
    return verdicts


def delivery_workers(db: Database, settings: Settings, count: int | None = None) -> list[DeliveryWorker]:
    """So many delivery workers (TIDINGS_DELIVERY_WORKERS by default), not started yet."""
    total = settings.delivery_workers if count is None else count
    return [DeliveryWorker(db, settings, index=i) for i in range(total)]


def deliver_due(
    db: Database,
    settings: Settings | None = None,
    *,
    providers_by_channel: dict[Channel, Provider] | None = None,
    rounds: int = 100,
) -> int:
    """Claim, send and settle everything due now, in the calling thread (tests and the CLI).
    Returns how many attempts were made."""
    worker = DeliveryWorker(db, settings, providers_by_channel=providers_by_channel)
    return asyncio.run(worker.drain(rounds))
