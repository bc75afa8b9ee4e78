"""A campaign message's variations (the omni shape's home of its content, SDK 25).

Every message has its default variation: the message itself, with the message's id (so the
stable shape, which knows no variations, shows the message as before). `create_campaign_variation`
adds more (`CampaignVariation` rows); a message with more than one variation is an A/B test
(`ab.py`). A further variation differs from the message in its content fields only (email:
subject, preview text, sender, reply-to and its own template copy; SMS and push: title and
body); the channel, SMS render options and push options are the message's.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.campaigns.schemas import OmniDetails, OmniVariationDefinition
from tidings.campaigns.service import (
    EMAIL_FIELDS,
    check_editable,
    get_campaign,
    get_message,
)
from tidings.campaigns.tables import CampaignMessage, CampaignVariation
from tidings.campaigns.variants import Found, all_of
from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.jsonapi.errors import InvalidInput, NotFound
from tidings.templates import repository as templates
from tidings.templates.copies import take_copy

OMNI_CHANNELS = {"email": "email", "sms": "sms", "push": "mobile_push"}
CONTENT_FIELDS: dict[str, tuple[str, ...]] = {
    "email": EMAIL_FIELDS,
    "sms": ("body",),
    "mobile_push": ("title", "body"),
}
MAX_VARIATIONS = 7  # Klaviyo's A/B tests take up to 7 variations


def find(session: Session, account_id: str, variation_id: str) -> Found:
    if len(variation_id) <= 26:
        message = session.get(CampaignMessage, (account_id, variation_id))
        if message is not None:
            return Found(message, None)
        variation = session.get(CampaignVariation, (account_id, variation_id))
        if variation is not None:
            return Found(get_message(session, account_id, variation.message_id), variation)
    raise NotFound(f"A campaign variation with id {variation_id} does not exist.")


def _content(message: CampaignMessage, details: OmniDetails, base: str) -> dict[str, str | None]:
    given = details.model_fields_set
    if "channel" in given and OMNI_CHANNELS[details.channel] != message.channel:
        raise InvalidInput(
            f"This message is a {message.channel} message; its variations cannot be another channel.",
            pointer=f"{base}/channel",
        )
    return {key: getattr(details, key) for key in CONTENT_FIELDS[message.channel] if key in given}


def _copy_template(
    session: Session, account_id: str, variation: CampaignVariation, template_id: str, pointer: str
) -> None:
    template = templates.get_template(session, account_id, template_id) if len(template_id) <= 26 else None
    if template is None:
        raise NotFound(f"A template with id {template_id} does not exist.", pointer=pointer)
    take_copy(
        variation,
        source_id=template.id,
        name=template.name,
        editor_type=template.editor_type,
        html=template.html,
        text=template.text,
        amp=template.amp,
    )


def create_variation(
    session: Session,
    account_id: str,
    message_id: str,
    definition: OmniVariationDefinition,
    *,
    base: str = "/data/attributes/definition/details",
) -> CampaignVariation:
    """`create_campaign_variation`: one more variation of a Draft message."""
    message = get_message(session, account_id, message_id)
    check_editable(get_campaign(session, account_id, message.campaign_id))
    if len(all_of(session, message)) >= MAX_VARIATIONS:
        raise InvalidInput(
            f"A message has at most {MAX_VARIATIONS} variations.",
            pointer="/data/relationships/campaign-message",
        )
    details = definition.details or OmniDetails()
    now = utcnow()
    variation = CampaignVariation(
        account_id=account_id,
        id=ulid(),
        campaign_id=message.campaign_id,
        message_id=message.id,
        name=definition.name,
        content=_content(message, details, base),
        created_at=now,
        updated_at=now,
    )
    if "template_id" in details.model_fields_set and details.template_id:
        if message.channel != "email":
            raise InvalidInput("Only email messages take a template.", pointer=f"{base}/template_id")
        _copy_template(session, account_id, variation, details.template_id, f"{base}/template_id")
    session.add(variation)
    session.flush()
    return variation


def update_variation(
    session: Session, account_id: str, variation: CampaignVariation, definition: OmniVariationDefinition
) -> CampaignVariation:
    """`update_campaign_variation` of a further variation (the default one is its message's)."""
    message = get_message(session, account_id, variation.message_id)
    check_editable(get_campaign(session, account_id, message.campaign_id))
    if definition.name is not None:
        variation.name = definition.name
    details = definition.details
    if details is not None:
        base = "/data/attributes/definition/details"
        variation.content = {**variation.content, **_content(message, details, base)}
        given = details.model_fields_set
        if "template_id" in given and details.template_id and details.template_id != variation.template_id:
            if message.channel != "email":
                raise InvalidInput("Only email messages take a template.", pointer=f"{base}/template_id")
            _copy_template(session, account_id, variation, details.template_id, f"{base}/template_id")
    variation.updated_at = utcnow()
    session.flush()
    return variation


def delete_variation(session: Session, account_id: str, variation_id: str) -> None:
    """`delete_campaign_variation`: a further variation of a Draft message; the default one (the
    message itself) cannot be deleted on its own."""
    found = find(session, account_id, variation_id)
    check_editable(get_campaign(session, account_id, found.message.campaign_id))
    if found.variation is None:
        raise InvalidInput(
            "A message's default variation cannot be deleted; delete the other variations instead.",
            pointer="/data/id",
        )
    session.delete(found.variation)
    session.flush()
