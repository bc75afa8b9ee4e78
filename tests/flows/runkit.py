"""Helpers for the executor tests: a movable clock, events through the SDK, advancing, the outbox."""

from __future__ import annotations

import datetime as dt
import email
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tidings.config import Settings
from tidings.db.base import set_clock
from tidings.db.session import Database
from tidings.delivery.tables import MessageSend
from tidings.delivery.worker import deliver_due
from tidings.flows import executor
from tidings.flows.tables import FlowRun, FlowRunStep
from tidings.jobs.worker import drain


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def move(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@contextmanager
def virtual_time(start: dt.datetime | None = None) -> Iterator[Clock]:
    clock = Clock(start or dt.datetime.now(dt.UTC).replace(microsecond=0))
    set_clock(lambda: clock.now)
    try:
        yield clock
    finally:
        set_clock(None)


def track(sdk: Any, metric: str, profile: dict[str, Any], properties: dict[str, Any], **extra: Any) -> None:
    body = {
        "data": {
            "type": "event",
            "attributes": {
                "properties": properties,
                "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
                "profile": {"data": {"type": "profile", "attributes": profile}},
                **extra,
            },
        }
    }
    sdk.Events.create_event(body)


def live(sdk: Any, flow_id: str, status: str = "live") -> None:
    sdk.Flows.update_flow(
        flow_id, {"data": {"type": "flow", "id": flow_id, "attributes": {"status": status}}}
    )


def advance(db: Database, now: dt.datetime | None = None, rounds: int = 20) -> int:
    """Jobs first (events processed, runs entered), then the executor until nothing is due."""
    drain(db)
    total = 0
    for _ in range(rounds):
        with db.write() as session:
            claimed = executor.advance(session, now=now)
        total += claimed
        if not claimed:
            break
    drain(db)
    return total


def outbox(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"outbox_dir": str(tmp_path / "outbox")})


def delivered(db: Database, settings: Settings, tmp_path: Path) -> list[email.message.Message]:
    deliver_due(db, outbox(settings, tmp_path))
    return [email.message_from_bytes(p.read_bytes()) for p in sorted((tmp_path / "outbox").glob("*/*.eml"))]


def body_text(message: email.message.Message) -> str:
    parts = [message] if not message.is_multipart() else list(message.walk())
    texts = []
    for part in parts:
        if part.get_content_type() in ("text/html", "text/plain"):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                texts.append(payload.decode())
    return "\n".join(texts)


def sends(db: Database, account_id: str) -> list[MessageSend]:
    with db.read() as session:
        stmt = select(MessageSend).where(
            MessageSend.account_id == account_id, MessageSend.source_kind == "flow_action"
        )
        return list(session.execute(stmt.order_by(MessageSend.id)).scalars())


def runs(db: Database, account_id: str, flow_id: str) -> list[FlowRun]:
    with db.read() as session:
        stmt = select(FlowRun).where(FlowRun.account_id == account_id, FlowRun.flow_id == flow_id)
        return list(session.execute(stmt.order_by(FlowRun.id)).scalars())


def steps(db: Database, account_id: str, run_id: str) -> list[tuple[str, str | None]]:
    with db.read() as session:
        stmt = select(FlowRunStep.outcome, FlowRunStep.reason).where(
            FlowRunStep.account_id == account_id, FlowRunStep.run_id == run_id
        )
        return [(o, r) for o, r in session.execute(stmt.order_by(FlowRunStep.id))]
