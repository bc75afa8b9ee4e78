"""Campaigns and campaign messages: create, read, update, clone, delete, assign a template.

Everything created here is a Draft, and only a Draft may change (`check_editable`); sending and
the other statuses are `sending.py`'s. A campaign has one message (Klaviyo's stable API), whose
channel is the campaign's. Audiences name lists and segments of the same account; an unknown id
is a 400 at its pointer, the same answer whether it does not exist or is another account's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from tidings.campaigns import images, repository, schedule, sending, variants
from tidings.campaigns.schemas import (
    AudiencesUpdate,
    CampaignCreate,
    CampaignUpdateAttributes,
    EmailMessageDefinition,
    MessageDefinition,
    MessageUpdate,
    PushMessageDefinition,
    RenderOptions,
    SendStrategy,
    SmsMessageDefinition,
    StaticSendStrategy,
    ThrottledSendStrategy,
    TrackingOptions,
)
from tidings.campaigns.tables import Campaign, CampaignMessage
from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.jsonapi.errors import Conflict, ErrorList, InvalidInput, NotFound
from tidings.tags import service as tags
from tidings.templates import repository as templates
from tidings.templates.copies import take_copy

DRAFT = "Draft"
# Statuses in which a campaign and its messages may be changed: a Draft only (a scheduled
# campaign is reverted to Draft first, as in Klaviyo; sending and sent ones never change).
EDITABLE = frozenset({DRAFT})
CHANNELS = ("email", "sms", "mobile_push")


def check_editable(campaign: Campaign, action: str = "edited") -> None:
    """Refuse a change to a campaign whose status does not allow it (400, as Klaviyo answers)."""
    if campaign.status not in EDITABLE:
        hint = (
            " Revert it to Draft first (cancel_campaign_send, action revert)."
            if campaign.status in (sending.REVERTIBLE)
            else ""
        )
        raise InvalidInput(f"A campaign with status {campaign.status!r} cannot be {action}.{hint}")


# ---------------------------------------------------------------------------- reads


def get_campaign(session: Session, account_id: str, campaign_id: str) -> Campaign:
    campaign = repository.get_campaign(session, account_id, campaign_id) if len(campaign_id) <= 26 else None
    if campaign is None:
        raise NotFound(f"A campaign with id {campaign_id} does not exist.")
    return campaign


def get_message(session: Session, account_id: str, message_id: str) -> CampaignMessage:
    message = repository.get_message(session, account_id, message_id) if len(message_id) <= 26 else None
    if message is None:
        raise NotFound(f"A campaign message with id {message_id} does not exist.")
    return message


def messages_of(
    session: Session, account_id: str, campaign_ids: list[str]
) -> dict[str, list[CampaignMessage]]:
    return repository.messages_of(session, account_id, campaign_ids)


# ---------------------------------------------------------------------------- parts


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def strategy_document(strategy: SendStrategy | None) -> dict[str, Any]:
    """The stored (and rendered) send strategy; none given is an immediate send."""
    if strategy is None:
        return {"method": "immediate"}
    document = strategy.model_dump(mode="json")
    if isinstance(strategy, StaticSendStrategy | ThrottledSendStrategy):
        document["datetime"] = _utc(strategy.datetime).isoformat(timespec="seconds")
    if isinstance(strategy, StaticSendStrategy) and strategy.options is not None:
        options: dict[str, Any] = {"is_local": strategy.options.is_local}
        if strategy.options.is_local:
            options["send_past_recipients_immediately"] = bool(
                strategy.options.send_past_recipients_immediately
            )
        document["options"] = options
    return document


def check_future(strategy: dict[str, Any]) -> None:
    """A scheduled time must be ahead (a local send: ahead somewhere on Earth), as Klaviyo asks."""
    if schedule.in_the_past(strategy, utcnow()):
        key = "date" if strategy.get("method") == "smart_send_time" else "datetime"
        raise InvalidInput(
            "The send time is in the past; choose a time in the future.",
            pointer=f"/data/attributes/send_strategy/{key}",
        )


def send_time_of(strategy: dict[str, Any]) -> dt.datetime | None:
    when = strategy.get("datetime")
    return dt.datetime.fromisoformat(when) if isinstance(when, str) else None


def tracking_document(
    channel: str, options: TrackingOptions | None, current: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Tracking options by channel: email has opens and clicks (on by default), SMS only the
    parameters, push none. `add_tracking_params` null means the account's setting."""
    if channel == "mobile_push":
        return None
    document: dict[str, Any] = dict(current or {})
    document.setdefault("add_tracking_params", None)
    document.setdefault("custom_tracking_params", None)
    if channel == "email":
        document.setdefault("is_tracking_clicks", True)
        document.setdefault("is_tracking_opens", True)
    if options is not None:
        given = options.model_dump(mode="json", exclude_unset=True)
        if channel != "email":
            for key in ("is_tracking_clicks", "is_tracking_opens"):
                if key in given:
                    raise InvalidInput(
                        f"'{key}' is only for email campaigns.",
                        pointer=f"/data/attributes/tracking_options/{key}",
                    )
        document.update(given)
    return document


def check_audiences(session: Session, account_id: str, named: list[tuple[str, Any]]) -> None:
    """`named`: (pointer, id). Every id must be a list or segment of the account."""
    found = repository.existing_audience_ids(session, account_id, [value for _pointer, value in named])
    errors: list[InvalidInput] = [
        InvalidInput(f"The list or segment {value!r} does not exist.", pointer=pointer)
        for pointer, value in named
        if value not in found
    ]
    if errors:
        raise ErrorList(list(errors))


def audience_ids(base: str, included: list[str] | None, excluded: list[str] | None) -> list[tuple[str, str]]:
    return [(f"{base}/included/{i}", v) for i, v in enumerate(included or [])] + [
        (f"{base}/excluded/{i}", v) for i, v in enumerate(excluded or [])
    ]


def unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _message_parts(
    definition: EmailMessageDefinition | SmsMessageDefinition | PushMessageDefinition,
) -> dict[str, Any]:
    """What a message stores of its definition: everything but channel and label."""
    if isinstance(definition, EmailMessageDefinition):
        content = definition.content.model_dump(mode="json") if definition.content else {}
        return {"content": {key: content.get(key) for key in EMAIL_FIELDS}}
    if isinstance(definition, SmsMessageDefinition):
        return {
            "content": definition.content.model_dump(mode="json")
            if definition.content
            else {"body": None, "media_url": None},
            "render_options": (definition.render_options or default_render()).model_dump(mode="json"),
        }
    return definition.model_dump(mode="json", exclude={"channel"})


EMAIL_FIELDS = (
    "subject",
    "preview_text",
    "from_email",
    "from_label",
    "reply_to_email",
    "cc_email",
    "bcc_email",
)


def default_render() -> RenderOptions:
    return RenderOptions()


# ---------------------------------------------------------------------------- campaigns


def create_campaign(session: Session, account_id: str, document: CampaignCreate) -> Campaign:
    attributes = document.data.attributes
    base = "/data/attributes/audiences"
    check_audiences(
        session, account_id, audience_ids(base, attributes.audiences.included, attributes.audiences.excluded)
    )
    message = attributes.campaign_messages.data[0]
    definition = message.attributes.definition
    relationships = message.relationships
    channel = definition.channel
    image_id = None
    if relationships is not None and relationships.image is not None and relationships.image.data is not None:
        image_id = images.checked_image_id(
            session,
            account_id,
            channel,
            relationships.image.data.id,
            "/data/attributes/campaign-messages/data/0/relationships/image/data/id",
        )
    now = utcnow()
    strategy = strategy_document(attributes.send_strategy)
    check_future(strategy)
    campaign = Campaign(
        account_id=account_id,
        id=ulid(),
        name=attributes.name,
        channel=channel,
        status=DRAFT,
        archived=False,
        builder="wizard",
        audiences={
            "included": unique(attributes.audiences.included),
            "excluded": unique(attributes.audiences.excluded or []),
        },
        send_options=(
            attributes.send_options.model_dump(mode="json")
            if attributes.send_options
            else {"use_smart_sending": True}
        ),
        tracking_options=tracking_document(channel, attributes.tracking_options),
        send_strategy=strategy,
        send_time=send_time_of(strategy),
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    label = definition.label if isinstance(definition, EmailMessageDefinition) else None
    session.add(
        CampaignMessage(
            account_id=account_id,
            id=ulid(),
            campaign_id=campaign.id,
            channel=channel,
            label=label or attributes.name,
            definition=_message_parts(definition),
            image_id=image_id,
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
    return campaign


def update_campaign(
    session: Session, account_id: str, campaign_id: str, attributes: CampaignUpdateAttributes
) -> Campaign:
    campaign = get_campaign(session, account_id, campaign_id)
    given = attributes.model_fields_set
    check_editable(campaign)
    if "name" in given and attributes.name is not None:
        campaign.name = attributes.name
    if "audiences" in given and attributes.audiences is not None:
        campaign.audiences = updated_audiences(session, account_id, campaign, attributes.audiences)
    if "send_options" in given:
        options = attributes.send_options
        campaign.send_options = options.model_dump(mode="json") if options else {"use_smart_sending": True}
    if "tracking_options" in given:
        campaign.tracking_options = tracking_document(
            campaign.channel, attributes.tracking_options, campaign.tracking_options
        )
    if "send_strategy" in given and attributes.send_strategy is not None:
        campaign.send_strategy = strategy_document(attributes.send_strategy)
        check_future(campaign.send_strategy)
        campaign.send_time = send_time_of(campaign.send_strategy)
    campaign.updated_at = utcnow()
    session.flush()
    return campaign


def updated_audiences(
    session: Session,
    account_id: str,
    campaign: Campaign,
    audiences: AudiencesUpdate,
    base: str = "/data/attributes/audiences",
) -> dict[str, Any]:
    """The campaign's audiences with the lists given replaced; `base`: their pointer."""
    current = dict(campaign.audiences)
    given = audiences.model_fields_set
    check_audiences(session, account_id, audience_ids(base, audiences.included, audiences.excluded))
    if "included" in given:
        if not audiences.included:
            raise InvalidInput(
                "A campaign needs at least one included list or segment.", pointer=f"{base}/included"
            )
        current["included"] = unique(audiences.included)
    if "excluded" in given:
        current["excluded"] = unique(audiences.excluded or [])
    return current


def delete_campaign(session: Session, account_id: str, campaign_id: str) -> None:
    campaign = get_campaign(session, account_id, campaign_id)
    check_deletable(campaign)
    sending.withdraw_all(session, campaign)  # a scheduled campaign's rows are not sent
    tags.forget_resources(session, account_id, "campaign", [campaign_id])
    repository.delete_campaign(session, account_id, campaign_id)


def check_deletable(campaign: Campaign) -> None:
    """Any campaign but one being sent may be deleted (the send step says which those are)."""
    if campaign.status in {sending.SENDING, sending.ADDING_RECIPIENTS}:
        raise InvalidInput(f"A campaign with status {campaign.status!r} cannot be deleted.")


def clone_campaign(session: Session, account_id: str, campaign_id: str, new_name: str | None) -> Campaign:
    """A Draft copy with its messages (and their template copies); name `Copy of ...` by default."""
    source = get_campaign(session, account_id, campaign_id)
    now = utcnow()
    clone = Campaign(
        account_id=account_id,
        id=ulid(),
        name=new_name or f"Copy of {source.name}"[:255],
        channel=source.channel,
        status=DRAFT,
        archived=False,
        audiences=dict(source.audiences),
        send_options=dict(source.send_options),
        tracking_options=dict(source.tracking_options) if source.tracking_options is not None else None,
        send_strategy=dict(source.send_strategy),
        builder=source.builder,
        extra=dict(source.extra) if source.extra else None,
        send_time=source.send_time,
        created_at=now,
        updated_at=now,
    )
    session.add(clone)
    for message in repository.messages_of(session, account_id, [campaign_id])[campaign_id]:
        message_id = ulid()
        session.add(
            CampaignMessage(
                account_id=account_id,
                id=message_id,
                campaign_id=clone.id,
                channel=message.channel,
                label=message.label,
                definition=dict(message.definition),
                template_id=ulid() if message.template_id else None,
                template_source_id=message.template_source_id,
                template_name=message.template_name,
                template_editor_type=message.template_editor_type,
                template_html=message.template_html,
                template_text=message.template_text,
                template_amp=message.template_amp,
                template_copied_at=message.template_copied_at,
                image_id=message.image_id,
                ab_test=dict(message.ab_test) if message.ab_test else None,
                created_at=now,
                updated_at=now,
            )
        )
        session.flush()  # the message before its variations (their foreign key)
        variants.clone_variations(session, account_id, message.id, message_id, clone.id)
    session.flush()
    return clone


# ---------------------------------------------------------------------------- messages


def update_message(
    session: Session, account_id: str, message_id: str, document: MessageUpdate
) -> CampaignMessage:
    message = get_message(session, account_id, message_id)
    check_editable(get_campaign(session, account_id, message.campaign_id))
    relationships = document.data.relationships
    if relationships is not None and relationships.image is not None:
        relation = relationships.image.data
        message.image_id = (
            images.checked_image_id(
                session, account_id, message.channel, relation.id, "/data/relationships/image/data/id"
            )
            if relation is not None
            else None
        )
    definition = document.data.attributes.definition
    if definition is not None:
        _merge_definition(message, definition)
    message.updated_at = utcnow()
    session.flush()
    return message


def _merge_definition(message: CampaignMessage, definition: MessageDefinition) -> None:
    if definition.channel != message.channel:
        raise InvalidInput(
            f"This message is a {message.channel} message; its channel cannot change.",
            pointer="/data/attributes/definition/channel",
        )
    stored = dict(message.definition)
    given = definition.model_dump(mode="json", exclude_unset=True)
    if isinstance(definition, EmailMessageDefinition) and "label" in given:
        message.label = definition.label
    for key, value in given.items():
        if key in ("channel", "label"):
            continue
        if isinstance(value, dict) and isinstance(stored.get(key), dict):
            stored[key] = {**stored[key], **value}
        else:
            stored[key] = value
    message.definition = stored


def assign_template(
    session: Session, account_id: str, message_id: str, template_id: str, pointer: str
) -> CampaignMessage:
    """Copy the template into the message (Klaviyo copies it into a non-reusable template)."""
    message = get_message(session, account_id, message_id)
    check_editable(get_campaign(session, account_id, message.campaign_id))
    if message.channel != "email":
        raise InvalidInput("Only an email message renders a template.", pointer="/data/id")
    copy_template(session, account_id, message, template_id, pointer)
    message.updated_at = utcnow()
    session.flush()
    return message


def copy_template(
    session: Session, account_id: str, message: CampaignMessage, template_id: str, pointer: str
) -> None:
    template = templates.get_template(session, account_id, template_id) if len(template_id) <= 26 else None
    if template is None:
        raise NotFound(f"A template with id {template_id} does not exist.", pointer=pointer)
    take_copy(
        message,
        source_id=template.id,
        name=template.name,
        editor_type=template.editor_type,
        html=template.html,
        text=template.text,
        amp=template.amp,
    )


def same_id(path_id: str, body_id: str) -> None:
    if path_id != body_id:
        raise Conflict("The id in the body does not match the id in the path.", pointer="/data/id")


def set_message_image(session: Session, account_id: str, message_id: str, image_id: str) -> CampaignMessage:
    """`update_image_for_campaign_message`: the message shows this image of the account."""
    message = get_message(session, account_id, message_id)
    check_editable(get_campaign(session, account_id, message.campaign_id))
    message.image_id = images.checked_image_id(session, account_id, message.channel, image_id, "/data/id")
    message.updated_at = utcnow()
    session.flush()
    return message
