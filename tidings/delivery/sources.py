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
# A source with variations (a campaign message's A/B test): (session, account_id, source_id,
# variation); a planned row names its variation in its context (`$variation`).
VariationResolver = Callable[[Session, str, str, str], MessageDefinition | None]

DEFINITION: TypeAdapter[MessageDefinition] = TypeAdapter(MessageDefinition)

_resolvers: dict[str, Resolver] = {}
_variation_resolvers: dict[str, VariationResolver] = {}


def register(kind: str, resolver: Resolver, variations: VariationResolver | None = None) -> None:
    _resolvers[kind] = resolver
    if variations is not None:
        _variation_resolvers[kind] = variations


def registered() -> dict[str, Resolver]:
    return dict(_resolvers)


def resolve(
    session: Session, account_id: str, kind: str, source_id: str | None, variation: str | None = None
) -> MessageDefinition | None:
    if source_id is None:
        return None
    by_variation = _variation_resolvers.get(kind)
    if variation is not None and by_variation is not None:
        return by_variation(session, account_id, source_id, variation)
    resolver = _resolvers.get(kind)
    if resolver is None:
        return None
    return resolver(session, account_id, source_id)
