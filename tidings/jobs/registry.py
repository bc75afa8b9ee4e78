"""Job handlers by name (`domain.verb`) and periodic schedules.

A domain registers its handlers in its `jobs.py`; `tidings.jobs.handlers` imports them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tidings.jobs.tables import DEFAULT_LANE


@dataclass(frozen=True)
class JobContext:
    id: str
    account_id: str
    name: str
    payload: dict[str, Any]
    attempt: int


Handler = Callable[[Session, JobContext], None]


@dataclass(frozen=True)
class Periodic:
    name: str
    every_seconds: int


HANDLERS: dict[str, Handler] = {}
PERIODIC: dict[str, Periodic] = {}
JOB_LANES: dict[str, str] = {}  # the jobs outside the default lane


def job(
    name: str, *, every_seconds: int | None = None, lane: str = DEFAULT_LANE
) -> Callable[[Handler], Handler]:
    """Register a handler. With `every_seconds`, a worker also enqueues it on that schedule.
    `lane` is the queue its jobs wait in (`network` for work that waits on other servers)."""

    def register(handler: Handler) -> Handler:
        if name in HANDLERS and HANDLERS[name] is not handler:
            raise ValueError(f"job {name!r} is registered twice")
        HANDLERS[name] = handler
        if every_seconds:
            PERIODIC[name] = Periodic(name, every_seconds)
        if lane != DEFAULT_LANE:
            JOB_LANES[name] = lane
        return handler

    return register


def lane_of(name: str) -> str:
    return JOB_LANES.get(name, DEFAULT_LANE)
