"""`create_flow_action` (Python SDK 25, revision 2026-10-15; not in stable.json): insert one
action into an existing flow, placed in exactly one of three ways, as the SDK's models say:

- `anchor-action`: after an existing action, on one of its outgoing links (the anchor's
  definition names that link, pointing at the new action's `temporary_id`);
- `definition.links.next`: before an existing action (whatever led to it leads to the new one);
- `relationships.flow`: the first action of a flow that has none.

Linear actions and multi-branch splits can be inserted; conditional and trigger splits and
A/B tests cannot (their second path would have nothing to hold). Message actions start in
draft; an action that is always live (a delay, a split) needs `allow_live_action` to enter a
live flow, since it affects people already in it.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.flows import repository, service
from tidings.flows.actions import MultiBranchSplitAction
from tidings.flows.schemas import ActionInsertData
from tidings.flows.tables import FlowAction
from tidings.jsonapi.errors import InvalidInput, NotFound

NOT_INSERTABLE = {
    "conditional-split": "a conditional split",
    "trigger-split": "a trigger split",
    "ab-test": "an A/B test",
}
BASE = "/data/attributes/definition"
ANCHOR = "/data/attributes/anchor-action/data"


def insert_action(session: Session, account_id: str, data: ActionInsertData) -> FlowAction:
    raw = data.attributes.definition
    parsed = service.parse_action(raw, BASE)
    if parsed.type in NOT_INSERTABLE:
        raise InvalidInput(
            f"{NOT_INSERTABLE[parsed.type].capitalize()} cannot be inserted: its other path would be empty. "
            "Create the flow with it, or update the flow's definition.",
            pointer=f"{BASE}/type",
        )
    if parsed.id is not None or parsed.temporary_id is None:
        raise InvalidInput("A new action has a temporary_id and no id.", pointer=f"{BASE}/temporary_id")
    temporary = parsed.temporary_id
    following = _links_next(raw)
    anchor = data.attributes.anchor_action
    flow_ref = data.relationships.flow if data.relationships else None
    ways = [w for w in (anchor, following, flow_ref) if w is not None]
    if len(ways) != 1:
        raise InvalidInput(
            "Place the action in exactly one way: anchor-action, definition.links.next, or "
            "relationships.flow.",
            pointer="/data",
        )
    new_id = ulid()
    if anchor is not None:
        before = repository.get_action(session, account_id, anchor.data.id)
        if before is None:
            raise NotFound(f"A flow action with id {anchor.data.id} does not exist.", pointer=f"{ANCHOR}/id")
        flow_id = before.flow_id
        rows = repository.actions_of(session, account_id, [flow_id])[flow_id]
        target, updated = _follow_anchor(before, anchor.data.attributes.definition, temporary, new_id)
        documents = [updated if r.id == before.id else r.definition for r in rows]
        entry = service.get_flow(session, account_id, flow_id).definition.get("entry_action_id")
    elif following is not None:
        after = repository.get_action(session, account_id, following)
        if after is None:
            raise NotFound(f"A flow action with id {following} does not exist.", pointer=f"{BASE}/links/next")
        flow_id = after.flow_id
        rows = repository.actions_of(session, account_id, [flow_id])[flow_id]
        documents = []
        for r in rows:
            doc = copy.deepcopy(r.definition)
            service.redirect(doc, following, new_id)
            documents.append(doc)
        target = following
        entry = service.get_flow(session, account_id, flow_id).definition.get("entry_action_id")
        entry = new_id if entry == following else entry
    else:
        assert flow_ref is not None
        flow_id = flow_ref.data.id
        flow = repository.get_flow(session, account_id, flow_id)
        if flow is None:
            raise NotFound(
                f"A flow with id {flow_id} does not exist.", pointer="/data/relationships/flow/data/id"
            )
        rows = repository.actions_of(session, account_id, [flow_id])[flow_id]
        if rows:
            raise InvalidInput(
                "relationships.flow places the first action of a flow with none; this flow has actions: "
                "use anchor-action or definition.links.next.",
                pointer="/data/relationships/flow",
            )
        documents, target, entry = [], None, new_id
    flow = service.get_flow(session, account_id, flow_id)
    doc = service.stored_action(parsed, new_id, {temporary: new_id})
    _continue_to(doc, parsed, target)
    new_data = doc.get("data")
    if isinstance(new_data, dict) and "status" in new_data:
        new_data["status"] = "draft"
    elif flow.status == "live" and not data.attributes.allow_live_action:
        raise InvalidInput(
            f"A {parsed.type} action is always live and would affect people already in this live flow: "
            "set allow_live_action to true to insert it.",
            pointer="/data/attributes/allow_live_action",
        )
    documents.append(doc)
    service.revalidate(session, flow, documents, entry, len(documents) - 1, BASE)
    now = utcnow()
    for r, changed in zip(rows, documents, strict=False):
        if r.definition != changed:
            r.definition = changed
            r.updated_at = now
    row = FlowAction(
        account_id=account_id,
        id=new_id,
        flow_id=flow_id,
        position=max((r.position for r in rows), default=-1) + 1,
        action_type=parsed.type,
        status=service.status_of(doc),
        definition=doc,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    service.sync_messages(session, row, doc, [], BASE)
    if flow.definition.get("entry_action_id") != entry:
        flow.definition = {**flow.definition, "entry_action_id": entry}
    flow.updated_at = now
    session.flush()
    return row


def _links_next(raw: dict[str, Any]) -> str | None:
    links = raw.get("links")
    value = links.get("next") if isinstance(links, dict) else None
    return value if isinstance(value, str) else None


def _follow_anchor(
    before: FlowAction, anchor: dict[str, Any], temporary: str, new_id: str
) -> tuple[str | None, dict[str, Any]]:
    """The anchor's old target on the named link, and its definition pointing at the new action."""
    if anchor.get("type") != before.action_type:
        raise InvalidInput(
            f"The anchor action is a {before.action_type}, not a {anchor.get('type')}.",
            pointer=f"{ANCHOR}/attributes/definition/type",
        )
    doc = copy.deepcopy(before.definition)
    named = [(k, v) for k, v in (anchor.get("links") or {}).items() if v == temporary]
    if before.action_type == "multi-branch-split":
        given = {b.get("branch_id"): b for b in (anchor.get("data") or {}).get("branches", [])}
        for branch in doc.get("data", {}).get("branches", []):
            if given.get(branch["branch_id"], {}).get("links", {}).get("next") == temporary:
                old = branch["links"]["next"]
                branch["links"] = {"next": new_id}
                return old, doc
    elif len(named) == 1 and named[0][0] in (doc.get("links") or {}):
        name = named[0][0]
        old = doc["links"][name]
        doc["links"][name] = new_id
        return old, doc
    raise InvalidInput(
        "The anchor names one of its outgoing links, pointing at the new action's temporary_id.",
        pointer=f"{ANCHOR}/attributes/definition/links",
    )


def _continue_to(doc: dict[str, Any], parsed: Any, target: str | None) -> None:
    """Where the new action leads: the anchor's old target (a multi-branch split: its else
    branch, else its first)."""
    if isinstance(parsed, MultiBranchSplitAction):
        branches = doc.get("data", {}).get("branches", [])
        chosen = next((b for b in branches if b.get("is_else")), branches[0] if branches else None)
        if chosen is not None and target is not None:
            chosen["links"] = {"next": target}
    else:
        doc["links"] = {"next": target}
