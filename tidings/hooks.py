"""Hooks: how a lower domain lets higher ones react to its changes without knowing them.

A domain offers a `Hook` (events written, profiles changed, list memberships changed, catalog
prices changed, ...) and calls its listeners in the writer's transaction; the composition root
(`tidings.domains`) registers the listeners of the domains above. A listener should enqueue
work rather than do much itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

L = TypeVar("L", bound=Callable[..., Any])


class Hook(Generic[L]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[L] = []

    def register(self, listener: L) -> L:
        if listener not in self._listeners:
            self._listeners.append(listener)
        return listener

    def unregister(self, listener: L) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def __iter__(self) -> Iterator[L]:
        return iter(tuple(self._listeners))

    def __repr__(self) -> str:
        return f"Hook({self.name!r}, {len(self._listeners)} listeners)"
