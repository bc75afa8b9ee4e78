"""Where a ledger row's message definition comes from, by the row's source kind.

The delivery domain does not know campaigns or flows (they stand above it); each source's owner
gives a resolver, and the composition root (`tidings.domains`) registers them here. A resolver
answers the definition of one source id in one account, or None when the source is gone (the
row is then skipped).
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from tidings.delivery.messages import MessageDefinition

Resolver = Callable[[Session, str, str], MessageDefinition | None]  # (session, account_id, source_id)

DEFINITION: TypeAdapter[MessageDefinition] = TypeAdapter(MessageDefinition)

_resolvers: dict[str, Resolver] = {}


def register(kind: str, resolver: Resolver) -> None:
    _resolvers[kind] = resolver


def registered() -> dict[str, Resolver]:
    return dict(_resolvers)


def resolve(session: Session, account_id: str, kind: str, source_id: str | None) -> MessageDefinition | None:
    resolver = _resolvers.get(kind)
    if resolver is None or source_id is None:
        return None
    return resolver(session, account_id, source_id)
