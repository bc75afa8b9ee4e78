"""The omni shape of campaigns (revision 2026-10-15, the Python SDK 25): create, update, and a
message's omni update, mapped onto the same stored campaign as the stable shape (see
docs/COMPATIBILITY.md, "Campaigns": inline audiences are flattened, one message, its first
variation's details; scheduling in this shape is not built)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tidings.campaigns import variations
from tidings.campaigns.schemas import (
    AudiencesUpdate,
    OmniAbTest,
    OmniAudienceUpdate,
    OmniCreate,
    OmniDefinition,
    OmniDetails,
    OmniMessageUpdate,
    OmniVariation,
    PushContent,
    PushMessageDefinition,
)
from tidings.campaigns.service import (
    DRAFT,
    EMAIL_FIELDS,
    audience_ids,
    check_audiences,
    check_editable,
    copy_template,
    default_render,
    get_campaign,
    get_message,
    tracking_document,
    unique,
    updated_audiences,
)
from tidings.campaigns.tables import Campaign, CampaignMessage
from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.jsonapi.errors import InvalidInput

CHANNELS = {"email": "email", "sms": "sms", "push": "mobile_push"}


def create_campaign(session: Session, account_id: str, document: OmniCreate) -> Campaign:
    attributes = document.data.attributes
    definition = attributes.definition
    if not definition.name:
        raise InvalidInput("'name' is a required field.", pointer="/data/attributes/definition/name")
    audiences = attributes.audiences or []
    named: list[tuple[str, str]] = []
    for index, audience in enumerate(audiences):
        named += audience_ids(f"/data/attributes/audiences/{index}", audience.included, audience.excluded)
    check_audiences(session, account_id, named)
    temporary = {audience.temporary_id for audience in audiences}
    messages = attributes.messages or []
    for index, inline in enumerate(messages):
        if inline.audience_temporary_id not in temporary:
            raise InvalidInput(
                "audience_temporary_id must match a temporary_id of the audiences.",
                pointer=f"/data/attributes/messages/{index}/audience_temporary_id",
            )
    details = _details_of(messages[0]) if messages else OmniDetails()
    channel = CHANNELS[details.channel]
    now = utcnow()
    tracking = tracking_document(channel, None)
    if messages and messages[0].is_add_utm is not None and tracking is not None:
        tracking["add_tracking_params"] = messages[0].is_add_utm
    campaign = Campaign(
        account_id=account_id,
        id=ulid(),
        name=definition.name,
        channel=channel,
        status=DRAFT,
        archived=bool(definition.archived),
        audiences={
            "included": unique([i for a in audiences for i in a.included or []]),
            "excluded": unique([i for a in audiences for i in a.excluded or []]),
        },
        send_options={"use_smart_sending": True},
        tracking_options=tracking,
        send_strategy={"method": "immediate"},
        builder=definition.builder or "wizard",
        extra=_omni_extra(definition, None, audiences[0].name if audiences else None),
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    if messages:
        message = CampaignMessage(
            account_id=account_id,
            id=ulid(),
            campaign_id=campaign.id,
            channel=channel,
            label=messages[0].name or campaign.name,
            definition=omni_parts(channel, details),
            created_at=now,
            updated_at=now,
        )
        if details.template_id:
            pointer = "/data/attributes/messages/0/variations/0/definition/details/template_id"
            copy_template(session, account_id, message, details.template_id, pointer)
        session.add(message)
        session.flush()
        for index, extra in enumerate((messages[0].variations or [])[1:], start=1):
            base = f"/data/attributes/messages/0/variations/{index}/definition/details"
            variations.create_variation(session, account_id, message.id, extra.definition, base=base)
    session.flush()
    return campaign


def _details_of(inline: Any) -> OmniDetails:
    variations = inline.variations or []
    if variations and variations[0].definition.details is not None:
        return variations[0].definition.details
    return OmniDetails()


def omni_parts(channel: str, details: OmniDetails) -> dict[str, Any]:
    if channel == "email":
        return {"content": {key: getattr(details, key) for key in EMAIL_FIELDS}}
    if channel == "sms":
        render = default_render().model_dump(mode="json")
        for key in render:
            if getattr(details, key) is not None:
                render[key] = getattr(details, key)
        return {"content": {"body": details.body, "media_url": None}, "render_options": render}
    return PushMessageDefinition(
        channel="mobile_push",
        notification_type=details.push_type or "standard",
        content=PushContent(title=details.title, body=details.body),
        kv_pairs=details.kv_pairs,
    ).model_dump(mode="json", exclude={"channel"})


def _omni_extra(
    definition: OmniDefinition, current: dict[str, Any] | None, audience_name: str | None = None
) -> dict[str, Any] | None:
    extra = dict(current or {})
    if audience_name:
        extra["audience_name"] = audience_name
    for key in ("color", "description"):
        if getattr(definition, key) is not None:
            extra[key] = getattr(definition, key)
    if definition.send_settings is not None:
        settings = definition.send_settings.model_dump(mode="json", exclude_none=True)
        settings.pop("send_strategy", None)  # scheduling in the omni shape is not built (see docs)
        extra["send_settings"] = {**extra.get("send_settings", {}), **settings}
    return extra or None


def update_campaign(
    session: Session, account_id: str, campaign_id: str, definition: OmniDefinition
) -> Campaign:
    campaign = get_campaign(session, account_id, campaign_id)
    given = definition.model_fields_set - {"archived"}
    if given:
        check_editable(campaign)
    if definition.name is not None:
        campaign.name = definition.name
    if definition.archived is not None:
        campaign.archived = definition.archived
    if definition.builder:
        campaign.builder = definition.builder
    campaign.extra = _omni_extra(definition, campaign.extra)
    campaign.updated_at = utcnow()
    session.flush()
    return campaign


def update_message(
    session: Session, account_id: str, message_id: str, document: OmniMessageUpdate
) -> CampaignMessage:
    message = get_message(session, account_id, message_id)
    campaign = get_campaign(session, account_id, message.campaign_id)
    check_editable(campaign)
    definition = document.data.attributes.definition
    if definition is not None:
        if definition.name is not None:
            message.label = definition.name
        if definition.ab_test is not None:
            message.ab_test = ab_settings(definition.ab_test, message.ab_test)
        tracking = definition.tracking_options
        if tracking is not None and campaign.channel != "mobile_push":
            current = dict(campaign.tracking_options or {})
            if tracking.is_add_utm is not None:
                current["add_tracking_params"] = tracking.is_add_utm
            if campaign.channel == "email":
                for key in ("is_tracking_clicks", "is_tracking_opens"):
                    if getattr(tracking, key) is not None:
                        current[key] = getattr(tracking, key)
            campaign.tracking_options = current
            campaign.updated_at = utcnow()
    message.updated_at = utcnow()
    session.flush()
    return message


def ab_settings(given: OmniAbTest, current: dict[str, Any] | None) -> dict[str, Any]:
    """A message's A/B settings with those given replaced (ab.py applies the defaults)."""
    if given.winner_metric == "placed_orders_unique":
        raise InvalidInput(
            "Tidings picks an A/B winner by opens_unique or clicks_unique;"
            " placed_orders_unique is not built.",
            pointer="/data/attributes/definition/ab_test/winner_metric",
        )
    return {**(current or {}), **given.model_dump(exclude_unset=True)}


# ---------------------------------------------------------------------------- variations
#
# Tidings has no A/B variations yet: each message is its own one (default) variation, with the
# message's id, so the omni operations on variations read and change the message's content.

EMAIL_DETAILS = (*EMAIL_FIELDS,)
SMS_RENDER = ("shorten_links", "add_org_prefix", "add_info_link", "add_opt_out_language")


def variation_details(message: CampaignMessage) -> dict[str, Any]:
    """A message's content as the omni shape's flat variation details."""
    stored = message.definition
    content = dict(stored.get("content") or {})
    if message.channel == "email":
        details: dict[str, Any] = {"channel": "email", "template_id": message.template_id}
        details.update({key: content.get(key) or "" for key in EMAIL_DETAILS})
        return details
    if message.channel == "sms":
        render = dict(stored.get("render_options") or {})
        return {
            "channel": "sms",
            "template_id": None,
            "body": content.get("body") or "",
            "text_message_type": "MMS" if content.get("media_url") else "SMS",
            **{key: render.get(key) for key in SMS_RENDER},
        }
    options = dict(stored.get("options") or {})
    on_open = dict(options.get("on_open") or {})
    return {
        "channel": "push",
        "title": content.get("title") or "",
        "body": content.get("body") or "",
        "push_type": stored.get("notification_type", "standard"),
        "kv_pairs": stored.get("kv_pairs"),
        "badge": bool((options.get("badge") or {}).get("display", False)),
        "sound": bool(options.get("play_sound", False)),
        "ios_deep_link": on_open.get("ios_deep_link"),
        "android_deep_link": on_open.get("android_deep_link"),
        "web_url": on_open.get("web_url"),
    }


def update_variation(
    session: Session, account_id: str, variation_id: str, variation: OmniVariation
) -> CampaignMessage:
    message = get_message(session, account_id, variation_id)
    check_editable(get_campaign(session, account_id, message.campaign_id))
    definition = variation.definition
    if definition.name is not None:
        message.label = definition.name
    details = definition.details
    if details is not None:
        given = details.model_fields_set
        base = "/data/attributes/definition/details"
        if "channel" in given and CHANNELS[details.channel] != message.channel:
            raise InvalidInput(
                f"This variation is a {message.channel} variation; its channel cannot change.",
                pointer=f"{base}/channel",
            )
        stored = dict(message.definition)
        content = dict(stored.get("content") or {})
        if message.channel == "email":
            content.update({key: getattr(details, key) for key in EMAIL_FIELDS if key in given})
            if "template_id" in given and details.template_id and details.template_id != message.template_id:
                copy_template(session, account_id, message, details.template_id, f"{base}/template_id")
        elif message.channel == "sms":
            if "body" in given:
                content["body"] = details.body
            render = dict(stored.get("render_options") or {})
            render.update({key: getattr(details, key) for key in SMS_RENDER if key in given})
            stored["render_options"] = render
        else:
            content.update({key: getattr(details, key) for key in ("title", "body") if key in given})
            if "push_type" in given and details.push_type is not None:
                stored["notification_type"] = details.push_type
            if "kv_pairs" in given:
                stored["kv_pairs"] = details.kv_pairs
        stored["content"] = content
        message.definition = stored
    message.updated_at = utcnow()
    session.flush()
    return message


# ---------------------------------------------------------------------------- audiences
#
# A campaign has one audience (its included and excluded lists and segments), with the
# campaign's id.


def audience_definition(campaign: Campaign) -> dict[str, Any]:
    return {
        "name": (campaign.extra or {}).get("audience_name") or campaign.name,
        "included": list(campaign.audiences.get("included", [])),
        "excluded": list(campaign.audiences.get("excluded", [])),
        "priority": 1,
    }


def update_audience(
    session: Session, account_id: str, campaign_id: str, audience: OmniAudienceUpdate
) -> Campaign:
    campaign = get_campaign(session, account_id, campaign_id)
    check_editable(campaign)
    given = audience.model_fields_set & {"included", "excluded"}
    lists = AudiencesUpdate(**{key: getattr(audience, key) for key in given})
    campaign.audiences = updated_audiences(
        session, account_id, campaign, lists, "/data/attributes/definition"
    )
    if audience.name:
        campaign.extra = {**(campaign.extra or {}), "audience_name": audience.name}
    campaign.updated_at = utcnow()
    session.flush()
    return campaign
