"""Campaigns and campaign messages as JSON:API resources, in both shapes at once.

A campaign carries the stable attributes (revision 2026-07-15: `name`, `status`, `audiences`,
`send_options`, `tracking_options`, `send_strategy`, ...) and the omni `definition` the Python
SDK 25 requires (revision 2026-10-15); a message carries the stable `definition` (channel,
label, content) with the omni message's keys added inside it (`name`, `status`,
`tracking_options`, `send_options`) and `created`/`updated` next to `created_at`/`updated_at`.
Each client reads its keys and ignores the others (both SDKs drop unknown keys).
"""

from __future__ import annotations

from typing import Any

from tidings.campaigns.tables import Campaign, CampaignMessage
from tidings.jsonapi.documents import Urls, iso, relationship, resource
from tidings.templates.copies import copy_resource

OMNI_STRATEGY = {
    "immediate": "static",
    "static": "static",
    "throttled": "throttled",
    "smart_send_time": "send_time_optimization",
}
OMNI_STATUS = {
    "Draft": "draft",
    "Adding Recipients": "scheduled",
    "Scheduled": "scheduled",
    "Sending": "sending",
    "Sent": "sent",
}


def omni_status(status: str) -> str:
    return "cancelled" if status.startswith("Cancelled") else OMNI_STATUS.get(status, "draft")


def omni_strategy(strategy: dict[str, Any]) -> str:
    method = str(strategy.get("method", "immediate"))
    if method == "static" and (strategy.get("options") or {}).get("is_local"):
        return "local_timezone"
    return OMNI_STRATEGY.get(method, "static")


def campaign_definition(campaign: Campaign) -> dict[str, Any]:
    """The omni shape's `definition` of a campaign (SDK 25's CampaignDefinition)."""
    extra = campaign.extra or {}
    kept = extra.get("send_settings") or {}
    options = campaign.send_strategy.get("options") or {}
    return {
        "name": campaign.name,
        "builder": campaign.builder,
        "archived": campaign.archived,
        "color": extra.get("color"),
        "description": extra.get("description"),
        "send_settings": {
            "send_timezone": kept.get("send_timezone"),
            "send_strategy": omni_strategy(campaign.send_strategy),
            "send_passed_rltz_immediately": bool(options.get("send_past_recipients_immediately", False)),
            "exit_condition_enabled": bool(kept.get("exit_condition_enabled", False)),
            "exit_condition_conversion_metric_id": kept.get("exit_condition_conversion_metric_id"),
        },
    }


def campaign_attributes(campaign: Campaign) -> dict[str, Any]:
    return {
        "name": campaign.name,
        "status": campaign.status,
        "archived": campaign.archived,
        "audiences": {
            "included": list(campaign.audiences.get("included", [])),
            "excluded": list(campaign.audiences.get("excluded", [])),
        },
        "send_options": dict(campaign.send_options),
        "tracking_options": dict(campaign.tracking_options)
        if campaign.tracking_options is not None
        else None,
        "send_strategy": dict(campaign.send_strategy),
        "created_at": iso(campaign.created_at),
        "scheduled_at": iso(campaign.scheduled_at),
        "updated_at": iso(campaign.updated_at),
        "send_time": iso(campaign.send_time),
        "definition": campaign_definition(campaign),
    }


def campaign_resource(
    urls: Urls, campaign: Campaign, messages: list[CampaignMessage], *, fields: list[str] | None = None
) -> dict[str, Any]:
    relationships = {
        "campaign-messages": relationship(
            "campaign-message",
            [message.id for message in messages],
            urls.relationship("campaigns", campaign.id, "campaign-messages"),
            urls.related("campaigns", campaign.id, "campaign-messages"),
            many=True,
        ),
        "campaign-audiences": relationship(
            "campaign-audience",
            [campaign.id],  # a campaign has one audience, with its id (routes_audiences.py)
            urls.relationship("campaigns", campaign.id, "campaign-audiences"),
            urls.related("campaigns", campaign.id, "campaign-audiences"),
            many=True,
        ),
        # Linkage with include=tags only (tags.render.include_tags), as lists and segments do.
        "tags": {
            "links": {
                "self": urls.relationship("campaigns", campaign.id, "tags"),
                "related": urls.related("campaigns", campaign.id, "tags"),
            }
        },
    }
    return resource(
        "campaign",
        campaign.id,
        campaign_attributes(campaign),
        urls.resource("campaigns", campaign.id),
        relationships=relationships,
        fields=fields,
    )


def message_definition(message: CampaignMessage, campaign: Campaign) -> dict[str, Any]:
    """The stable `definition` (channel, label, content, ...) plus the omni message's keys."""
    stored = dict(message.definition)
    definition: dict[str, Any] = {"channel": message.channel}
    if message.channel == "email":
        definition["label"] = message.label
    definition.update(stored)
    tracking = campaign.tracking_options or {}
    definition.update(
        {
            "name": message.label,
            "status": omni_status(campaign.status),
            "tracking_options": {
                "is_add_utm": tracking.get("add_tracking_params"),
                "is_tracking_clicks": tracking.get("is_tracking_clicks"),
                "is_tracking_opens": tracking.get("is_tracking_opens"),
            },
            "send_options": {
                "send_time": iso(campaign.send_time),
                "send_strategy": omni_strategy(campaign.send_strategy),
                "throttling_type": "throttle-for-campaigns"
                if (campaign.send_options or {}).get("use_smart_sending", True)
                else "none",
            },
            "ab_test": dict(message.ab_test) if message.ab_test else None,  # as given (ab.py: defaults)
        }
    )
    return definition


def send_times(campaign: Campaign) -> list[dict[str, Any]]:
    if campaign.send_time is None:
        return []
    options = campaign.send_strategy.get("options") or {}
    return [{"datetime": iso(campaign.send_time), "is_local": bool(options.get("is_local", False))}]


def message_attributes(message: CampaignMessage, campaign: Campaign, *, flat: bool = False) -> dict[str, Any]:
    definition = message_definition(message, campaign)
    attributes: dict[str, Any] = {
        "definition": definition,
        "send_times": send_times(campaign),
        "created_at": iso(message.created_at),
        "updated_at": iso(message.updated_at),
        "created": iso(message.created_at),
        "updated": iso(message.updated_at),
    }
    if flat:  # assign_template's response: label, channel, content at the top (both SDKs read them)
        attributes["label"] = message.label or ""
        attributes["channel"] = message.channel
        attributes["content"] = dict(message.definition.get("content") or {})
        if "render_options" in message.definition:
            attributes["render_options"] = message.definition["render_options"]
    return attributes


def message_resource(
    urls: Urls,
    message: CampaignMessage,
    campaign: Campaign,
    *,
    fields: list[str] | None = None,
    flat: bool = False,
    variation_ids: list[str] | None = None,
) -> dict[str, Any]:
    relationships = {
        "campaign": relationship(
            "campaign",
            message.campaign_id,
            urls.relationship("campaign-messages", message.id, "campaign"),
            urls.related("campaign-messages", message.id, "campaign"),
            many=False,
        ),
        "template": relationship(
            "template",
            message.template_id,
            urls.relationship("campaign-messages", message.id, "template"),
            urls.related("campaign-messages", message.id, "template"),
            many=False,
        ),
        "campaign-audience": relationship(
            "campaign-audience",
            message.campaign_id,
            urls.relationship("campaign-messages", message.id, "campaign-audience"),
            urls.related("campaign-messages", message.id, "campaign-audience"),
            many=False,
        ),
        "campaign-variations": relationship(
            "campaign-variation",
            variation_ids or [message.id],  # its default variation (itself), then the others
            urls.relationship("campaign-messages", message.id, "campaign-variations"),
            urls.related("campaign-messages", message.id, "campaign-variations"),
            many=True,
        ),
        "image": relationship(
            "image",
            message.image_id,
            urls.relationship("campaign-messages", message.id, "image"),
            urls.related("campaign-messages", message.id, "image"),
            many=False,
        ),
    }
    return resource(
        "campaign-message",
        message.id,
        message_attributes(message, campaign, flat=flat),
        urls.resource("campaign-messages", message.id),
        relationships=relationships,
        fields=fields,
    )


template_resource = copy_resource  # the message's copy of its template
