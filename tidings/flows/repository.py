"""Queries on flows, flow actions and flow messages; every one scoped by account."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from tidings.events import custom_metrics
from tidings.events.tables import Metric
from tidings.flows.tables import Flow, FlowAction, FlowMessage
from tidings.jsonapi.filters import FilterField, Node, compile_filter
from tidings.lists.tables import List
from tidings.segments.tables import Segment
from tidings.templates.tables import Template

FLOW_FILTERS = {
    "id": FilterField(Flow.id),
    "name": FilterField(Flow.name),
    "status": FilterField(Flow.status),
    "archived": FilterField(Flow.archived, kind="boolean"),
    "trigger_type": FilterField(Flow.trigger_type),
    "created": FilterField(Flow.created_at, kind="datetime"),
    "updated": FilterField(Flow.updated_at, kind="datetime"),
}
FLOW_SORTS = {
    "id": Flow.id,
    "name": Flow.name,
    "status": Flow.status,
    "trigger_type": Flow.trigger_type,
    "created": Flow.created_at,
    "updated": Flow.updated_at,
}
ACTION_FILTERS = {
    "id": FilterField(FlowAction.id),
    "action_type": FilterField(FlowAction.action_type),
    "status": FilterField(FlowAction.status),
    "created": FilterField(FlowAction.created_at, kind="datetime"),
    "updated": FilterField(FlowAction.updated_at, kind="datetime"),
}
ACTION_SORTS = {
    "id": FlowAction.id,
    "action_type": FlowAction.action_type,
    "status": FlowAction.status,
    "created": FlowAction.created_at,
    "updated": FlowAction.updated_at,
}
MESSAGE_FILTERS = {
    "id": FilterField(FlowMessage.id),
    "name": FilterField(FlowMessage.name),
    "created": FilterField(FlowMessage.created_at, kind="datetime"),
    "updated": FilterField(FlowMessage.updated_at, kind="datetime"),
}
MESSAGE_SORTS = {
    "id": FlowMessage.id,
    "name": FlowMessage.name,
    "created": FlowMessage.created_at,
    "updated": FlowMessage.updated_at,
}


def _ids(session: Session, column: Any, account_column: Any, account_id: str, ids: Iterable[str]) -> set[str]:
    wanted = sorted({i for i in ids if isinstance(i, str) and len(i) <= 64})
    if not wanted:
        return set()
    stmt = select(column).where(account_column == account_id, column.in_(wanted))
    return set(session.execute(stmt).scalars())


def existing_list_ids(session: Session, account_id: str, ids: Iterable[str]) -> set[str]:
    return _ids(session, List.id, List.account_id, account_id, ids)


def existing_segment_ids(session: Session, account_id: str, ids: Iterable[str]) -> set[str]:
    return _ids(session, Segment.id, Segment.account_id, account_id, ids)


def existing_metric_ids(session: Session, account_id: str, ids: Iterable[str]) -> set[str]:
    """Metrics and custom metrics of the account (a custom metric is usable wherever a metric is;
    the executor expands it with events.custom_metrics.expand)."""
    wanted = list(ids)
    found = _ids(session, Metric.id, Metric.account_id, account_id, wanted)
    return found | custom_metrics.existing_ids(session, account_id, set(wanted) - found)


def existing_template_ids(session: Session, account_id: str, ids: Iterable[str]) -> set[str]:
    """Templates of the account, and flow messages' template copies (a definition read back
    names its messages' copies, and may be sent again)."""
    wanted = list(ids)
    found = _ids(session, Template.id, Template.account_id, account_id, wanted)
    return found | _ids(
        session, FlowMessage.template_id, FlowMessage.account_id, account_id, set(wanted) - found
    )


def get_template(session: Session, account_id: str, template_id: str) -> Template | FlowMessage | None:
    """The template, or the flow message holding that template copy."""
    if len(template_id) > 26:
        return None
    template = session.get(Template, (account_id, template_id))
    if template is not None:
        return template
    stmt = select(FlowMessage).where(
        FlowMessage.account_id == account_id, FlowMessage.template_id == template_id
    )
    return session.execute(stmt.limit(1)).scalars().first()


def flows_query(account_id: str, filter_node: Node | None) -> Select[Any]:
    stmt = select(Flow).where(Flow.account_id == account_id)
    if filter_node is not None:
        stmt = stmt.where(compile_filter(filter_node, FLOW_FILTERS))
    return stmt


def actions_query(account_id: str, flow_id: str, filter_node: Node | None) -> Select[Any]:
    stmt = select(FlowAction).where(FlowAction.account_id == account_id, FlowAction.flow_id == flow_id)
    if filter_node is not None:
        stmt = stmt.where(compile_filter(filter_node, ACTION_FILTERS))
    return stmt


def messages_query(account_id: str, action_id: str, filter_node: Node | None) -> Select[Any]:
    stmt = select(FlowMessage).where(FlowMessage.account_id == account_id, FlowMessage.action_id == action_id)
    if filter_node is not None:
        stmt = stmt.where(compile_filter(filter_node, MESSAGE_FILTERS))
    return stmt


def get_flow(session: Session, account_id: str, flow_id: str) -> Flow | None:
    return session.get(Flow, (account_id, flow_id)) if len(flow_id) <= 26 else None


def get_action(session: Session, account_id: str, action_id: str) -> FlowAction | None:
    return session.get(FlowAction, (account_id, action_id)) if len(action_id) <= 26 else None


def get_message(session: Session, account_id: str, message_id: str) -> FlowMessage | None:
    return session.get(FlowMessage, (account_id, message_id)) if len(message_id) <= 26 else None


def actions_of(session: Session, account_id: str, flow_ids: Iterable[str]) -> dict[str, list[FlowAction]]:
    """The actions of these flows, by flow, in the definition's order."""
    wanted = sorted(set(flow_ids))
    found: dict[str, list[FlowAction]] = {flow_id: [] for flow_id in wanted}
    if not wanted:
        return found
    stmt = (
        select(FlowAction)
        .where(FlowAction.account_id == account_id, FlowAction.flow_id.in_(wanted))
        .order_by(FlowAction.flow_id, FlowAction.position)
    )
    for action in session.execute(stmt).scalars():
        found[action.flow_id].append(action)
    return found


def messages_of(session: Session, account_id: str, action_ids: Iterable[str]) -> dict[str, list[FlowMessage]]:
    wanted = sorted(set(action_ids))
    found: dict[str, list[FlowMessage]] = {action_id: [] for action_id in wanted}
    if not wanted:
        return found
    stmt = (
        select(FlowMessage)
        .where(FlowMessage.account_id == account_id, FlowMessage.action_id.in_(wanted))
        .order_by(FlowMessage.action_id, FlowMessage.id)
    )
    for message in session.execute(stmt).scalars():
        found[message.action_id].append(message)
    return found


def flows_triggered_by(session: Session, account_id: str, kind: str, ref: str) -> list[Flow]:
    stmt = (
        select(Flow)
        .where(Flow.account_id == account_id, Flow.trigger_kind == kind, Flow.trigger_ref == ref)
        .order_by(Flow.id)
    )
    return list(session.execute(stmt).scalars())


def delete_messages(session: Session, account_id: str, message_ids: Iterable[str]) -> None:
    wanted = sorted(set(message_ids))
    if wanted:
        session.execute(
            delete(FlowMessage).where(FlowMessage.account_id == account_id, FlowMessage.id.in_(wanted))
        )


def delete_action(session: Session, account_id: str, action_id: str) -> None:
    session.execute(
        delete(FlowMessage).where(FlowMessage.account_id == account_id, FlowMessage.action_id == action_id)
    )
    session.execute(delete(FlowAction).where(FlowAction.account_id == account_id, FlowAction.id == action_id))


def delete_flow(session: Session, account_id: str, flow_id: str) -> None:
    """The flow, its actions and messages (children first: SQLite may run without foreign keys)."""
    session.execute(
        delete(FlowMessage).where(FlowMessage.account_id == account_id, FlowMessage.flow_id == flow_id)
    )
    session.execute(
        delete(FlowAction).where(FlowAction.account_id == account_id, FlowAction.flow_id == flow_id)
    )
    session.execute(delete(Flow).where(Flow.account_id == account_id, Flow.id == flow_id))
