"""A campaign message's variations as stored: the default one (the message itself) and the
further ones (`CampaignVariation` rows), and a variation's message as it sends (`merged`).
The operations on variations are in `variations.py`; this module stands below the service so
that the resolver and the A/B test can use it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.campaigns.tables import CampaignMessage, CampaignVariation
from tidings.db.base import utcnow
from tidings.db.ids import ulid


@dataclass(frozen=True)
class Found:
    """A variation id's message, and its row (None: the message's default variation)."""

    message: CampaignMessage
    variation: CampaignVariation | None

    @property
    def id(self) -> str:
        return self.variation.id if self.variation is not None else self.message.id


def extras_of(
    session: Session, account_id: str, message_ids: list[str]
) -> dict[str, list[CampaignVariation]]:
    """The further variations of each message, oldest first."""
    found: dict[str, list[CampaignVariation]] = {message_id: [] for message_id in message_ids}
    if not message_ids:
        return found
    query = (
        select(CampaignVariation)
        .where(CampaignVariation.account_id == account_id, CampaignVariation.message_id.in_(message_ids))
        .order_by(CampaignVariation.id)
    )
    for variation in session.execute(query).scalars():
        found[variation.message_id].append(variation)
    return found


def all_of(session: Session, message: CampaignMessage) -> list[Found]:
    """The message's variations in order: its default one first."""
    extras = extras_of(session, message.account_id, [message.id])[message.id]
    return [Found(message, None), *(Found(message, v) for v in extras)]


def merged(message: CampaignMessage, variation: CampaignVariation | None) -> CampaignMessage:
    """The message as this variation sends it (a transient copy; never added to the session)."""
    if variation is None:
        return message
    definition = dict(message.definition)
    definition["content"] = {**dict(definition.get("content") or {}), **variation.content}
    copy = variation if variation.template_id else message
    return CampaignMessage(
        account_id=message.account_id,
        id=message.id,
        campaign_id=message.campaign_id,
        channel=message.channel,
        label=variation.name if variation.name is not None else message.label,
        definition=definition,
        template_id=copy.template_id,
        template_source_id=copy.template_source_id,
        template_name=copy.template_name,
        template_editor_type=copy.template_editor_type,
        template_html=copy.template_html,
        template_text=copy.template_text,
        template_amp=copy.template_amp,
        template_copied_at=copy.template_copied_at,
        image_id=message.image_id,
        created_at=variation.created_at,
        updated_at=variation.updated_at,
    )


def clone_variations(
    session: Session, account_id: str, source_id: str, clone_id: str, campaign_id: str
) -> None:
    """The further variations of message `source_id`, copied onto message `clone_id`."""
    now = utcnow()
    for variation in extras_of(session, account_id, [source_id])[source_id]:
        session.add(
            CampaignVariation(
                account_id=account_id,
                id=ulid(),
                campaign_id=campaign_id,
                message_id=clone_id,
                name=variation.name,
                content=dict(variation.content),
                template_id=ulid() if variation.template_id else None,
                template_source_id=variation.template_source_id,
                template_name=variation.template_name,
                template_editor_type=variation.template_editor_type,
                template_html=variation.template_html,
                template_text=variation.template_text,
                template_amp=variation.template_amp,
                template_copied_at=variation.template_copied_at,
                created_at=now,
                updated_at=now,
            )
        )
