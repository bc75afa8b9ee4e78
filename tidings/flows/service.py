"""Flows: create with a whole definition, read, change status (cascading to the actions),
delete; edit and delete single actions. Services flush at most; the request commits.

A live flow runs (tidings/flows/entry.py, executor.py): setting a segment flow live opens its
cursor on the segment's change log; deleting a flow ends its waiting runs, traced.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.flows import entry, repository, runs, validation
from tidings.flows.actions import MESSAGE_CHANNELS, Action, FlowEmail
from tidings.flows.definition import TRIGGER_TYPE_NAMES, FlowDefinition, parse, pointer
from tidings.flows.tables import Flow, FlowAction, FlowMessage
from tidings.jsonapi.errors import APIError, Conflict, ErrorList, InvalidInput, NotFound
from tidings.tags import service as tags
from tidings.templates.copies import take_copy

STATUSES = ("draft", "manual", "live")
ACTION = TypeAdapter(Action)


def get_flow(session: Session, account_id: str, flow_id: str) -> Flow:
    flow = repository.get_flow(session, account_id, flow_id)
    if flow is None:
        raise NotFound(f"A flow with id {flow_id} does not exist.")
    return flow


def get_action(session: Session, account_id: str, action_id: str) -> FlowAction:
    action = repository.get_action(session, account_id, action_id)
    if action is None:
        raise NotFound(f"A flow action with id {action_id} does not exist.")
    return action


def get_message(session: Session, account_id: str, message_id: str) -> FlowMessage:
    message = repository.get_message(session, account_id, message_id)
    if message is None:
        raise NotFound(f"A flow message with id {message_id} does not exist.")
    return message


def same_id(path_id: str, body_id: str) -> None:
    if path_id != body_id:
        raise Conflict("The id in the body does not match the id in the path.", pointer="/data/id")


# ------------------------------------------------------------------------------ create


def _trigger_columns(definition: FlowDefinition) -> tuple[str, str | None, str | None]:
    if not definition.triggers:
        return "Unconfigured", None, None
    trigger = definition.triggers[0]
    ref = getattr(trigger, "id", None) or getattr(trigger, "date_profile_property", None)
    return TRIGGER_TYPE_NAMES[trigger.type], trigger.type, ref


def _flow_document(definition: FlowDefinition, entry: str | None) -> dict[str, Any]:
    dumped = definition.model_dump(mode="json", exclude={"actions"})
    dumped["entry_action_id"] = entry
    return dumped


def create_flow(session: Session, account_id: str, name: str, raw: Any) -> Flow:
    base = "/data/attributes/definition"
    definition = parse(raw, base)
    validation.validate(session, account_id, definition, base)
    ids = {validation.action_key(a): ulid() for a in definition.actions}
    entry = ids.get(definition.entry_action_id) if definition.entry_action_id else None
    trigger_type, kind, ref = _trigger_columns(definition)
    now = utcnow()
    flow = Flow(
        account_id=account_id,
        id=ulid(),
        name=name,
        status="draft",
        archived=False,
        trigger_type=trigger_type,
        trigger_kind=kind,
        trigger_ref=ref,
        definition=_flow_document(definition, entry),
        created_at=now,
        updated_at=now,
    )
    session.add(flow)
    session.flush()
    for position, action in enumerate(definition.actions):
        key = validation.action_key(action)
        assert key is not None  # validated
        doc = stored_action(action, ids[key], ids)
        row = FlowAction(
            account_id=account_id,
            id=ids[key],
            flow_id=flow.id,
            position=position,
            action_type=action.type,
            status=status_of(doc),
            definition=doc,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        sync_messages(session, row, doc, [], f"{base}/actions/{position}")
    session.flush()
    return flow


def stored_action(action: Any, real_id: str, ids: dict[str | None, str]) -> dict[str, Any]:
    """The action as stored and answered: real ids, links naming real ids, defaults filled."""
    doc: dict[str, Any] = action.model_dump(mode="json", exclude={"temporary_id"})
    doc["id"] = real_id
    links = doc.get("links")
    if isinstance(links, dict):
        doc["links"] = {name: (ids.get(target, target) if target else None) for name, target in links.items()}
    elif "links" in doc and doc["links"] is None and doc["type"] not in ("multi-branch-split",):
        doc["links"] = (
            {"next_if_true": None, "next_if_false": None} if "split" in doc["type"] else {"next": None}
        )
    data = doc.get("data")
    if doc["type"] == "multi-branch-split" and isinstance(data, dict):
        for branch in data.get("branches", []):
            branch["branch_id"] = branch.get("branch_id") or ulid()
            target = (branch.get("links") or {}).get("next")
            branch["links"] = {"next": ids.get(target, target) if target else None}
    if doc["type"] in MESSAGE_CHANNELS and doc["type"] not in ("send-webhook", "send-internal-alert"):
        if data is None:
            doc["data"] = data = {"status": "draft", "message": None}
        if data.get("message") is None and doc["type"] == "send-email":
            data["message"] = FlowEmail().model_dump(mode="json")
    return doc


def status_of(doc: dict[str, Any]) -> str:
    data = doc.get("data")
    if isinstance(data, dict) and isinstance(data.get("status"), str):
        return str(data["status"])
    return "live"  # delays and splits have no status: they always run


def _slots(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(slot, channel, message document) of each message the action carries."""
    data = doc.get("data")
    if not isinstance(data, dict):
        return []
    if doc["type"] in MESSAGE_CHANNELS:
        message = data.get("message")
        return [("message", MESSAGE_CHANNELS[doc["type"]], message)] if isinstance(message, dict) else []
    if doc["type"] == "ab-test":
        found = [(f"main:{s}", c, m) for s, c, m in _slots(data["main_action"])]
        experiment = data.get("current_experiment") or {}
        for i, variation in enumerate(experiment.get("variations") or []):
            found += [(f"variation:{i}:{s}", c, m) for s, c, m in _slots(variation)]
        return found
    return []


def sync_messages(
    session: Session, row: FlowAction, doc: dict[str, Any], existing: list[FlowMessage], base: str
) -> None:
    """One flow message per message slot of the action (kept by slot across edits), each with
    its own copy of its template. `doc` is not changed: the row gets a new value (a value
    changed in place would look unchanged to the session, and not be written)."""
    doc = copy.deepcopy(doc)
    by_slot = {m.slot: m for m in existing}
    now = utcnow()
    for slot, channel, message in _slots(doc):
        found = by_slot.pop(slot, None)
        if found is None:
            found = FlowMessage(
                account_id=row.account_id,
                id=ulid(),
                action_id=row.id,
                flow_id=row.flow_id,
                slot=slot,
                channel=channel,
                created_at=now,
            )
            session.add(found)
        found.name = message.get("name")
        found.updated_at = now
        message["id"] = found.id
        template_id = message.get("template_id")
        if template_id is None:
            found.template_id = None
        elif template_id != found.template_id:
            _copy_template(session, found, template_id, f"{base}/data/message/template_id")
        message["template_id"] = found.template_id
    repository.delete_messages(session, row.account_id, [m.id for m in by_slot.values()])
    row.definition = doc
    session.flush()


def _copy_template(session: Session, message: FlowMessage, template_id: str, at: str) -> None:
    template = repository.get_template(session, message.account_id, template_id)
    if template is None:
        raise NotFound(f"A template with id {template_id} does not exist.", pointer=at)
    if isinstance(template, FlowMessage):  # another message's copy: copy the copy
        take_copy(
            message,
            source_id=template.template_source_id,
            name=template.template_name,
            editor_type=template.template_editor_type,
            html=template.template_html,
            text=template.template_text,
            amp=template.template_amp,
        )
    else:
        take_copy(
            message,
            source_id=template.id,
            name=template.name,
            editor_type=template.editor_type,
            html=template.html,
            text=template.text,
            amp=template.amp,
        )


# ------------------------------------------------------------------------ read, status


def actions_of(session: Session, account_id: str, flow_ids: list[str]) -> dict[str, list[FlowAction]]:
    return repository.actions_of(session, account_id, flow_ids)


def messages_of(session: Session, account_id: str, action_ids: list[str]) -> dict[str, list[FlowMessage]]:
    return repository.messages_of(session, account_id, action_ids)


def full_definition(flow: Flow, actions: list[FlowAction]) -> dict[str, Any]:
    """The flow's whole definition as the spec writes it, with real ids."""
    return {**flow.definition, "actions": [a.definition for a in actions]}


def update_status(session: Session, account_id: str, flow_id: str, status: str) -> Flow:
    """The flow's status and, as Klaviyo does, that of every action that has one."""
    flow = get_flow(session, account_id, flow_id)
    if status not in STATUSES:
        raise InvalidInput(
            f"{status!r} is not a flow status; allowed: draft, manual, live.",
            pointer="/data/attributes/status",
        )
    if status != "draft" and not flow.definition.get("triggers"):
        raise InvalidInput("A flow with no trigger can only be a draft.", pointer="/data/attributes/status")
    now = utcnow()
    for action in repository.actions_of(session, account_id, [flow_id])[flow_id]:
        doc = copy.deepcopy(action.definition)
        if _set_status(doc, status):
            action.definition = doc
            action.status = status
            action.updated_at = now
    if status == "live":
        entry.open_cursor(session, flow, now)
    flow.status = status
    flow.updated_at = now
    session.flush()
    return flow


def _set_status(doc: dict[str, Any], status: str) -> bool:
    data = doc.get("data")
    if isinstance(data, dict) and "status" in data:
        data["status"] = status
        return True
    return False


def delete_flow(session: Session, account_id: str, flow_id: str) -> None:
    get_flow(session, account_id, flow_id)
    runs.end_runs(session, account_id, flow_id, "Flow Deleted", utcnow())
    repository.delete_flow(session, account_id, flow_id)
    tags.forget_resources(session, account_id, "flow", [flow_id])


def flows_triggered_by(session: Session, account_id: str, kind: str, ref: str) -> list[Flow]:
    return repository.flows_triggered_by(session, account_id, kind, ref)


# ----------------------------------------------------------------------- one action


def parse_action(raw: Any, base: str) -> Any:
    try:
        return ACTION.validate_python(raw)
    except ValidationError as exc:
        errors: list[APIError] = [
            InvalidInput(f"Invalid flow action: {e['msg']}", pointer=pointer(tuple(e["loc"]), base))
            for e in exc.errors()
        ]
        raise ErrorList(errors[:50]) from None


def revalidate(
    session: Session,
    flow: Flow,
    actions: list[dict[str, Any]],
    entry: str | None,
    edited: int | None,
    base: str,
) -> None:
    """Check the flow as it would be; errors of the edited action at `base`, others at its links."""
    raw = {**flow.definition, "actions": actions, "entry_action_id": entry}
    definition = parse(raw, "/flow")
    known = frozenset(
        m.template_id
        for ms in repository.messages_of(session, flow.account_id, [a["id"] for a in actions]).values()
        for m in ms
        if m.template_id
    )
    try:
        validation.validate(session, flow.account_id, definition, "/flow", known_templates=known)
    except ErrorList as exc:
        prefix = f"/flow/actions/{edited}" if edited is not None else None
        for error in exc.errors:
            where = error.pointer or ""
            if prefix and (where == prefix or where.startswith(prefix + "/")):
                error.pointer = base + where[len(prefix) :]
            else:
                error.pointer = base
                error.detail = f"The flow would not be valid: {error.detail}"
        raise


def update_action(session: Session, account_id: str, action_id: str, raw: Any) -> FlowAction:
    base = "/data/attributes/definition"
    row = get_action(session, account_id, action_id)
    parsed = parse_action(raw, base)
    if parsed.type != row.action_type:
        raise InvalidInput(
            f"An action keeps its type ({row.action_type}); delete it and insert a {parsed.type} instead.",
            pointer=f"{base}/type",
        )
    if parsed.id is not None and parsed.id != action_id:
        raise Conflict("The action's id does not match the id in the path.", pointer=f"{base}/id")
    flow = get_flow(session, account_id, row.flow_id)
    rows = repository.actions_of(session, account_id, [flow.id])[flow.id]
    doc = stored_action(parsed, action_id, {})
    documents = [doc if r.id == action_id else r.definition for r in rows]
    revalidate(session, flow, documents, flow.definition.get("entry_action_id"), row.position, base)
    existing = repository.messages_of(session, account_id, [action_id])[action_id]
    sync_messages(session, row, doc, existing, base)
    row.status = status_of(doc)
    row.updated_at = flow.updated_at = utcnow()
    session.flush()
    return row


def delete_action(session: Session, account_id: str, action_id: str) -> None:
    """Remove the action; whatever led to it leads to its next action instead. A split can be
    removed only when its branches are empty (which of them would the rest follow?)."""
    row = get_action(session, account_id, action_id)
    targets = [t for _n, _p, t in parse_action(row.definition, "/").edges() if t is not None]
    if row.action_type.endswith("split") and targets:
        raise InvalidInput(
            "A split with actions on its branches cannot be removed: remove the actions of its "
            "branches first.",
            pointer="/data/id",
        )
    following = targets[0] if targets else None
    flow = get_flow(session, account_id, row.flow_id)
    now = utcnow()
    for other in repository.actions_of(session, account_id, [flow.id])[flow.id]:
        if other.id == action_id:
            continue
        doc = copy.deepcopy(other.definition)
        if redirect(doc, action_id, following):
            other.definition = doc
            other.updated_at = now
    if flow.definition.get("entry_action_id") == action_id:
        flow.definition = {**flow.definition, "entry_action_id": following}
    flow.updated_at = now
    repository.delete_action(session, account_id, action_id)
    session.flush()


def redirect(doc: dict[str, Any], old: str, new: str | None) -> bool:
    changed = False
    links = doc.get("links")
    if isinstance(links, dict):
        for name, target in links.items():
            if target == old:
                links[name] = new
                changed = True
    data = doc.get("data")
    if doc.get("type") == "multi-branch-split" and isinstance(data, dict):
        for branch in data.get("branches", []):
            if (branch.get("links") or {}).get("next") == old:
                branch["links"] = {"next": new}
                changed = True
    return changed
