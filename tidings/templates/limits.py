"""What one render may spend: time, output, list items, and work.

Templates are user input, so every render runs inside a budget, kept in a context variable
for the duration of the render (or of several: a message's parts share one):

- **time**: a deadline, checked before every filter call, every node list and every loop
  iteration, so a render stops at the first check past it;
- **output**: no rendered part, and no value a filter builds, is longer than `max_output`
  characters; the filters that grow their input (`join`, `add`, `ljust`, ...) check the size
  of their result *before* building it;
- **items**: no list a filter builds has more than `max_items` items, and a filter that works
  through its input piece by piece in Python (characters, words, lines, tags, list items)
  is given at most `max_items` pieces, so no single call runs long or allocates one object
  per character of a huge value;
- **work**: everything built along the way (filter results, loop iterations, blocks, counting
  nested output again at each level; a list item counts as `ITEM_COST` characters plus its
  text) stays under four times the output limit, so values kept in `{% with %}` cannot add up.

Together these bound a render's memory by a small multiple of the output limit, and its time
by the deadline plus one filter call on the largest value it accepts.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tidings.config import Settings

ITEM_COST = 64  # characters a list item counts for: its slot and a small object


class RenderLimitExceeded(Exception):
    """A render went over one of its limits; `limit` names which ("time", "output", ...)."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


@dataclass(frozen=True)
class RenderLimits:
    seconds: float = 2.0
    max_output: int = 5 * 1024 * 1024  # characters
    max_items: int = 100_000

    @property
    def max_work(self) -> int:
        return 4 * self.max_output

    @classmethod
    def from_settings(cls, settings: Settings) -> RenderLimits:
        return cls(
            seconds=settings.template_render_seconds,
            max_output=settings.template_max_output_chars,
            max_items=settings.template_max_items,
        )


DEFAULT_LIMITS = RenderLimits()


class Budget:
    """One render's deadline and counters (see the module docstring)."""

    __slots__ = ("deadline", "limits", "max_items", "max_output", "max_work", "work")

    def __init__(self, limits: RenderLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.max_output = limits.max_output
        self.max_items = limits.max_items
        self.max_work = limits.max_work
        self.work = 0

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise RenderLimitExceeded(
                "time", f"The template took too long to render (time limit: {self.limits.seconds:g} s)."
            )

    def check_output(self, size: int, what: str = "The rendered template") -> None:
        if size > self.max_output:
            raise RenderLimitExceeded(
                "output",
                f"{what} is too large ({size:,} characters; output limit: {self.max_output:,}).",
            )

    def check_items(self, count: int, what: str) -> None:
        if count > self.max_items:
            raise RenderLimitExceeded(
                "item", f"{what} has too many items ({count:,}; item limit: {self.max_items:,})."
            )

    def charge(self, size: int) -> None:
        self.work += size
        if self.work > self.max_work:
            raise RenderLimitExceeded(
                "work",
                f"The template built too much while rendering (more than {self.max_work:,} characters; "
                "work limit: four times the output limit).",
            )

    def charge_value(self, value: Any, what: str) -> None:
        """Count a value a filter built; refuse it if it is over the output or item limit."""
        if isinstance(value, str):
            size = len(value)
            if size > self.max_output:
                self.check_output(size, what)
            self.charge(size)
        elif isinstance(value, list | tuple):
            self.check_items(len(value), what)
            self.charge(ITEM_COST * len(value) + sum(len(item) for item in value if isinstance(item, str)))


_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("tidings_render_budget", default=None)


def current() -> Budget | None:
    return _budget.get()


def start(limits: RenderLimits) -> contextvars.Token[Budget | None]:
    return _budget.set(Budget(limits))


def stop(token: contextvars.Token[Budget | None]) -> None:
    _budget.reset(token)


@contextmanager
def shared_budget(limits: RenderLimits = DEFAULT_LIMITS) -> Iterator[Budget]:
    """One budget for several renders (a message's parts): one deadline, one work counter."""
    token = start(limits)
    try:
        budget = _budget.get()
        assert budget is not None
        yield budget
    finally:
        stop(token)
