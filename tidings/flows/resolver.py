"""What delivery sends for a flow message: its definition, built when a ledger row is claimed.

Registered by the composition root as the resolver of `SourceKind.FLOW_ACTION`; a flow row's
`source_id` is the flow message (an A/B test's rows name the variation each got). The message is
sent as it is at send time. Its events carry Klaviyo's flow properties (`$flow`, `$message`,
`$flow_message`... below); the triggering event reaches the template as `event` through the
row's `event_id` (tidings/templates/recipients.py). A message whose flow or action is gone
resolves to None, and delivery skips the row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tidings.delivery.messages import EmailDefinition, PushDefinition, SmsDefinition
from tidings.flows import repository
from tidings.flows.tables import FlowMessage


def message_document(definition: dict[str, Any], slot: str) -> dict[str, Any]:
    """The message part of an action's definition at a flow message's slot."""
    data = definition.get("data") or {}
    if slot == "message":
        found = data.get("message")
    elif slot.startswith("main:"):
        found = ((data.get("main_action") or {}).get("data") or {}).get("message")
    elif slot.startswith("variation:"):
        index = int(slot.split(":")[1])
        variations = (data.get("current_experiment") or {}).get("variations") or []
        found = ((variations[index] if index < len(variations) else {}).get("data") or {}).get("message")
    else:
        found = None
    return found if isinstance(found, dict) else {}


def resolve(
    session: Session, account_id: str, flow_message_id: str
) -> EmailDefinition | SmsDefinition | PushDefinition | None:
    message = repository.get_message(session, account_id, flow_message_id)
    if message is None:
        return None
    action = repository.get_action(session, account_id, message.action_id)
    flow = repository.get_flow(session, account_id, message.flow_id)
    if action is None or flow is None:
        return None
    doc = message_document(action.definition, message.slot)
    context: dict[str, Any] = {
        "$flow": flow.id,
        "$message": message.id,
        "$flow_message": message.id,
        "$flow_action": action.id,
        "Flow Name": flow.name,
        "$variation": message.id,
    }
    smart = doc.get("smart_sending_enabled") is not False
    transactional = doc.get("transactional") is True
    if message.channel == "email":
        return _email(message, doc, context, smart, transactional, flow.name)
    if message.channel == "sms":
        return SmsDefinition(
            body=str(doc.get("body") or ""),
            smart_sending=smart and not transactional,
            quiet_hours=doc.get("sms_quiet_hours_enabled") is not False and not transactional,
            transactional=transactional,
            context=context,
        )
    if message.channel == "push":
        data = {str(k): str(v) for k, v in (doc.get("kv_pairs") or {}).items()}
        return PushDefinition(
            title=doc.get("title"),
            body=str(doc.get("body") or ""),
            data=data,
            sound="default" if doc.get("sound") else None,
            badge=1 if doc.get("badge") else None,
            smart_sending=smart,
            context=context,
        )
    return None


def _email(
    message: FlowMessage,
    doc: dict[str, Any],
    context: dict[str, Any],
    smart: bool,
    transactional: bool,
    flow_name: str,
) -> EmailDefinition:
    subject = str(doc.get("subject_line") or "")
    return EmailDefinition(
        html=message.template_html,
        text=message.template_text,
        subject=subject,
        preview_text=doc.get("preview_text"),
        from_email=doc.get("from_email"),
        from_label=doc.get("from_label"),
        reply_to_email=doc.get("reply_to_email"),
        transactional=transactional,
        smart_sending=smart and not transactional,
        add_tracking_params=doc.get("add_tracking_params"),
        utm_values={
            "flow_id": message.flow_id,
            "flow_name": flow_name,
            "message_name": message.name or subject,
            "message_type": "email",
            "email_subject": subject,
        },
        context={**context, "Subject": subject},
    )
