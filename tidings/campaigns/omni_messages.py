"""Campaign messages created and deleted on their own, in the omni shape (SDK 25):
`create_campaign_message` and `delete_campaign_message`.

Tidings' campaigns have one message (the stable API's rule), so a message may be created only
for a campaign that has none (an omni campaign created without `messages`, or whose message was
deleted), and the audience it names must be its campaign's (a campaign's one audience has the
campaign's id). Both need a `Draft` campaign.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.campaigns import repository, variations
from tidings.campaigns.omni import CHANNELS, ab_settings, omni_parts
from tidings.campaigns.schemas import MessageCreateOmni, OmniDetails
from tidings.campaigns.service import check_editable, copy_template, get_campaign, get_message
from tidings.campaigns.tables import CampaignMessage
from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.jsonapi.errors import InvalidInput, NotFound

CAMPAIGN_POINTER = "/data/relationships/campaign/data/id"
AUDIENCE_POINTER = "/data/relationships/campaign-audience/data/id"


def create_message(session: Session, account_id: str, document: MessageCreateOmni) -> CampaignMessage:
    data = document.data
    campaign_id = data.relationships.campaign.data.id
    try:
        campaign = get_campaign(session, account_id, campaign_id)
    except NotFound as missing:
        raise NotFound(
            f"A campaign with id {campaign_id} does not exist.", pointer=CAMPAIGN_POINTER
        ) from missing
    audience_id = data.relationships.campaign_audience.data.id
    if audience_id != campaign.id:
        raise NotFound(f"A campaign audience with id {audience_id} does not exist.", pointer=AUDIENCE_POINTER)
    check_editable(campaign)
    if repository.messages_of(session, account_id, [campaign.id])[campaign.id]:
        raise InvalidInput(
            "This campaign has a message already; a Tidings campaign has one message.",
            pointer=CAMPAIGN_POINTER,
        )
    inline = data.attributes.variations or []
    details = (inline[0].definition.details if inline else None) or OmniDetails()
    channel = CHANNELS[details.channel]
    now = utcnow()
    definition = data.attributes.definition
    message = CampaignMessage(
        account_id=account_id,
        id=ulid(),
        campaign_id=campaign.id,
        channel=channel,
        label=definition.name or campaign.name,
        definition=omni_parts(channel, details),
        ab_test=ab_settings(definition.ab_test, None) if definition.ab_test is not None else None,
        created_at=now,
        updated_at=now,
    )
    if details.template_id:
        pointer = "/data/attributes/variations/0/definition/details/template_id"
        copy_template(session, account_id, message, details.template_id, pointer)
    campaign.channel = channel
    campaign.updated_at = now
    session.add(message)
    session.flush()
    for index, extra in enumerate(inline[1:], start=1):
        base = f"/data/attributes/variations/{index}/definition/details"
        variations.create_variation(session, account_id, message.id, extra.definition, base=base)
    return message


def delete_message(session: Session, account_id: str, message_id: str) -> None:
    message = get_message(session, account_id, message_id)
    campaign = get_campaign(session, account_id, message.campaign_id)
    check_editable(campaign)
    repository.delete_message(session, account_id, message.id)
    campaign.updated_at = utcnow()
    session.flush()
