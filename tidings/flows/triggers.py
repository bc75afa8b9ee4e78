"""What flows tell metrics, lists and segments: which flows each one triggers (the
`events.flow_triggers.FlowTriggers` protocol; the composition root sets it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tidings.events.flow_triggers import TriggerKind
from tidings.flows import render, repository
from tidings.jsonapi.documents import Urls


class FlowTriggersReader:
    def flow_ids(self, session: Session, account_id: str, kind: TriggerKind, ref: str) -> list[str]:
        return [flow.id for flow in repository.flows_triggered_by(session, account_id, kind, ref)]

    def flows(
        self,
        session: Session,
        account_id: str,
        kind: TriggerKind,
        ref: str,
        urls: Urls,
        fields: list[str] | None,
    ) -> list[dict[str, Any]]:
        flows = repository.flows_triggered_by(session, account_id, kind, ref)
        actions = repository.actions_of(session, account_id, [f.id for f in flows])
        return [render.flow_resource(urls, f, actions[f.id], fields=fields) for f in flows]
