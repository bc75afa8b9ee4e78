"""Job handlers by name (`domain.verb`) and periodic schedules.

A domain declares its handlers in its `jobs.py` with `@job(...)`, which only describes them
(a `JobSpec`); the module lists them in `JOBS`. The composition root (`tidings.domains`)
registers every domain's specs here: importing a jobs module registers nothing.
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
class JobSpec:
    """A job handler and how it runs: its name and, for periodic jobs, how often."""

    name: str
    handler: Handler
    every_seconds: int | None = None

    def __call__(self, session: Session, context: JobContext) -> None:
        self.handler(session, context)


@dataclass(frozen=True)
class Periodic:
    name: str
    every_seconds: int


HANDLERS: dict[str, Handler] = {}
PERIODIC: dict[str, Periodic] = {}


def job(name: str, *, every_seconds: int | None = None) -> Callable[[Handler], JobSpec]:
    """Describe a handler. With `every_seconds`, workers also enqueue it on that schedule.
    It runs only once the composition root registers it."""

    def describe(handler: Handler) -> JobSpec:
        return JobSpec(name, handler, every_seconds)

    return describe


def register(spec: JobSpec) -> None:
    if spec.name in HANDLERS and HANDLERS[spec.name] is not spec.handler:
        raise ValueError(f"job {spec.name!r} is registered twice")
    HANDLERS[spec.name] = spec.handler
    if spec.every_seconds:
        PERIODIC[spec.name] = Periodic(spec.name, spec.every_seconds)
