"""A message's own copy of a template (campaign and flow messages keep one, as Klaviyo copies a
template into a non-reusable one): taking the copy, and showing it as a `template` resource."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.jsonapi.documents import Urls, iso, resource


class TemplateCopy(Protocol):
    """The columns a message keeps its copy in (campaign_messages, flow_messages)."""

    template_id: Any
    template_source_id: Any
    template_name: Any
    template_editor_type: Any
    template_html: Any
    template_text: Any
    template_amp: Any
    template_copied_at: Any
    updated_at: Any


def take_copy(
    message: TemplateCopy,
    *,
    source_id: str | None,
    name: str | None,
    editor_type: str | None,
    html: str | None,
    text: str | None,
    amp: str | None,
    now: dt.datetime | None = None,
) -> None:
    """Store the copy under a new id of its own (what the message's template relationship names)."""
    message.template_id = ulid()
    message.template_source_id = source_id
    message.template_name = name
    message.template_editor_type = editor_type
    message.template_html = html
    message.template_text = text
    message.template_amp = amp
    message.template_copied_at = now or utcnow()


def copy_resource(
    urls: Urls, message: TemplateCopy, *, fields: list[str] | None = None
) -> dict[str, Any] | None:
    """The message's copy of its template, as a `template` resource (None: no template)."""
    if message.template_id is None:
        return None
    copied = message.template_copied_at or message.updated_at
    attributes = {
        "name": message.template_name or "",
        "editor_type": message.template_editor_type or "CODE",
        "html": message.template_html or "",
        "text": message.template_text,
        "amp": message.template_amp,
        "created": iso(copied),
        "updated": iso(copied),
    }
    return resource(
        "template",
        message.template_id,
        attributes,
        urls.resource("templates", message.template_id),
        fields=fields,
    )
