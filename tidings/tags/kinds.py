"""What can be tagged: the domains above register their kinds of resource here.

A kind says its JSON:API type (`list`, `segment`, `campaign`, `flow`), the relationship name on a
tag (`lists`, ...) and how to find which of some ids name a resource of the account. The
composition root (`tidings.domains`) registers lists, segments and campaigns; flows register the
same way when they exist. Until a kind is registered, every id of it is unknown (a 404), and a tag
lists none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

# (session, account_id, ids) -> the ids that name a resource of that account
Existing = Callable[[Session, str, list[str]], set[str]]

# Every kind Klaviyo tags, whether or not its domain exists yet: type -> relationship name on a tag.
KNOWN = {"list": "lists", "segment": "segments", "campaign": "campaigns", "flow": "flows"}


@dataclass(frozen=True)
class Taggable:
    type: str  # the resource's JSON:API type, also the tagging's resource_kind
    existing: Existing

    @property
    def relationship(self) -> str:
        return KNOWN[self.type]


_KINDS: dict[str, Taggable] = {}


def register(kind: Taggable) -> None:
    if kind.type not in KNOWN:
        raise ValueError(f"{kind.type!r} is not a kind of resource Klaviyo tags")
    _KINDS[kind.type] = kind


def unregister(type_: str) -> None:
    _KINDS.pop(type_, None)


def kind(type_: str) -> Taggable | None:
    return _KINDS.get(type_)


def kinds() -> Iterator[Taggable]:
    return iter(tuple(_KINDS.values()))
