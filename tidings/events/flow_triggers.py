"""Which flows a metric, a list or a segment triggers.

The flow-trigger relationships of metrics (here), lists and segments (above events) are read
from flows, a domain above them all. Flows implement `FlowTriggers`, and the composition root
hands it to `set_reader`; until it does, nothing triggers a flow.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from tidings.jsonapi.documents import Urls

TriggerKind = Literal["metric", "list", "segment"]


class FlowTriggers(Protocol):
    def flow_ids(self, session: Session, account_id: str, kind: TriggerKind, ref: str) -> list[str]:
        """The ids of the account's flows that this metric, list or segment triggers."""
        ...

    def flows(
        self,
        session: Session,
        account_id: str,
        kind: TriggerKind,
        ref: str,
        urls: Urls,
        fields: list[str] | None,
    ) -> list[dict[str, Any]]:
        """Those flows as `flow` resources."""
        ...


class NoFlows:
    def flow_ids(self, session: Session, account_id: str, kind: TriggerKind, ref: str) -> list[str]:
        return []

    def flows(
        self,
        session: Session,
        account_id: str,
        kind: TriggerKind,
        ref: str,
        urls: Urls,
        fields: list[str] | None,
    ) -> list[dict[str, Any]]:
        return []


_reader: FlowTriggers = NoFlows()


def set_reader(reader: FlowTriggers) -> None:
    global _reader
    _reader = reader


def reader() -> FlowTriggers:
    return _reader
