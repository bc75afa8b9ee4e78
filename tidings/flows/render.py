"""Flows, flow actions and flow messages as JSON:API resources."""

from __future__ import annotations

from typing import Any

from tidings.flows.tables import Flow, FlowAction, FlowMessage
from tidings.jsonapi.documents import Urls, iso, relationship, resource
from tidings.templates.copies import copy_resource


def flow_resource(
    urls: Urls,
    flow: Flow,
    actions: list[FlowAction],
    *,
    fields: list[str] | None = None,
    definition: bool = False,
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "name": flow.name,
        "status": flow.status,
        "archived": flow.archived,
        "created": iso(flow.created_at),
        "updated": iso(flow.updated_at),
        "trigger_type": flow.trigger_type,
    }
    if definition:
        attributes["definition"] = {**flow.definition, "actions": [a.definition for a in actions]}
    relationships = {
        "flow-actions": relationship(
            "flow-action",
            [a.id for a in actions],
            urls.relationship("flows", flow.id, "flow-actions"),
            urls.related("flows", flow.id, "flow-actions"),
            many=True,
        ),
        # Linkage only with include=tags (tags.render.include_tags), as on campaigns.
        "tags": {
            "links": {
                "self": urls.relationship("flows", flow.id, "tags"),
                "related": urls.related("flows", flow.id, "tags"),
            }
        },
    }
    return resource(
        "flow",
        flow.id,
        attributes,
        urls.resource("flows", flow.id),
        relationships=relationships,
        fields=fields,
    )


def action_resource(
    urls: Urls, action: FlowAction, messages: list[FlowMessage], *, fields: list[str] | None = None
) -> dict[str, Any]:
    attributes = {
        "created": iso(action.created_at),
        "updated": iso(action.updated_at),
        "definition": action.definition,
    }
    relationships = {
        "flow": relationship(
            "flow",
            action.flow_id,
            urls.relationship("flow-actions", action.id, "flow"),
            urls.related("flow-actions", action.id, "flow"),
            many=False,
        ),
        "flow-messages": relationship(
            "flow-message",
            [m.id for m in messages],
            urls.relationship("flow-actions", action.id, "flow-messages"),
            urls.related("flow-actions", action.id, "flow-messages"),
            many=True,
        ),
    }
    return resource(
        "flow-action",
        action.id,
        attributes,
        urls.resource("flow-actions", action.id),
        relationships=relationships,
        fields=fields,
    )


def message_definition(message: FlowMessage, action: FlowAction) -> dict[str, Any] | None:
    """The message's part of its action's definition (by its slot)."""
    doc: Any = action.definition
    parts = message.slot.split(":")
    while parts:
        part = parts.pop(0)
        if part == "main":
            doc = (doc.get("data") or {}).get("main_action") or {}
        elif part == "variation":
            index = int(parts.pop(0))
            variations = ((doc.get("data") or {}).get("current_experiment") or {}).get("variations") or []
            doc = variations[index] if index < len(variations) else {}
        elif part == "message":
            doc = (doc.get("data") or {}).get("message")
    return doc if isinstance(doc, dict) else None


def message_resource(
    urls: Urls, message: FlowMessage, action: FlowAction, *, fields: list[str] | None = None
) -> dict[str, Any]:
    attributes = {
        "channel": message.channel,
        "created": iso(message.created_at),
        "updated": iso(message.updated_at),
        "definition": message_definition(message, action),
    }
    relationships = {
        "flow-action": relationship(
            "flow-action",
            message.action_id,
            urls.relationship("flow-messages", message.id, "flow-action"),
            urls.related("flow-messages", message.id, "flow-action"),
            many=False,
        ),
        "template": relationship(
            "template",
            message.template_id,
            urls.relationship("flow-messages", message.id, "template"),
            urls.related("flow-messages", message.id, "template"),
            many=False,
        ),
    }
    return resource(
        "flow-message",
        message.id,
        attributes,
        urls.resource("flow-messages", message.id),
        relationships=relationships,
        fields=fields,
    )


template_resource = copy_resource  # the message's copy of its template
