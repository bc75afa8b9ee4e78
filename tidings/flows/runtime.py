"""The executor's working values: a claimed run, where a step sends it, a line of its trace."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class Run:
    account_id: str
    id: str
    flow_id: str
    profile_id: str
    trigger_kind: str
    event_id: str | None
    status: str
    action_id: str | None
    visit: int
    started_at: dt.datetime
    due_at: dt.datetime | None = None
    exit_reason: str | None = None
    changed: bool = False


@dataclass(frozen=True)
class Move:
    kind: str  # next, wait, exit
    target: str | None = None
    due_at: dt.datetime | None = None
    reason: str | None = None

    @classmethod
    def next(cls, target: str | None) -> Move:
        return cls("next", target=target)

    @classmethod
    def complete(cls) -> Move:
        return cls("next", target=None)

    @classmethod
    def wait(cls, due_at: dt.datetime) -> Move:
        return cls("wait", due_at=due_at)

    @classmethod
    def exit(cls, reason: str) -> Move:
        return cls("exit", reason=reason)


@dataclass
class Step:
    run: Run
    action_id: str | None
    outcome: str  # entered, waiting, sent, skipped, branched, updated, exited, completed
    reason: str | None
    send_id: str | None = None
    visit: int = field(default=-1)

    def __post_init__(self) -> None:
        if self.visit < 0:
            self.visit = self.run.visit
