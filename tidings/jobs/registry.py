"""Job handlers by name (`domain.verb`) and periodic schedules.

A domain registers its handlers in its `jobs.py`; `tidings.jobs.handlers` imports them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session


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


def job(name: str, *, every_seconds: int | None = None) -> Callable[[Handler], Handler]:
    """Register a handler. With `every_seconds`, a worker also enqueues it on that schedule."""

    def register(handler: Handler) -> Handler:
        if name in HANDLERS and HANDLERS[name] is not handler:
            raise ValueError(f"job {name!r} is registered twice")
        HANDLERS[name] = handler
        if every_seconds:
            PERIODIC[name] = Periodic(name, every_seconds)
        return handler

    return register
