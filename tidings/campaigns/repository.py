"""Queries on campaigns and campaign messages; every one scoped by account."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from tidings.campaigns.tables import (
    Campaign,
    CampaignMessage,
    CampaignRecipientEstimation,
    CampaignSendJob,
    CampaignVariation,
)
from tidings.jsonapi.filters import FilterField, Node, compile_filter
from tidings.lists.tables import List
from tidings.segments.tables import Segment

CAMPAIGN_FILTERS = {
    "id": FilterField(Campaign.id),
    "messages.channel": FilterField(Campaign.channel),
    "name": FilterField(Campaign.name),
    "status": FilterField(Campaign.status),
    "archived": FilterField(Campaign.archived, kind="boolean"),
    "builder": FilterField(Campaign.builder),  # the omni revision's (2026-10-15)
    "created_at": FilterField(Campaign.created_at, kind="datetime"),
    "updated_at": FilterField(Campaign.updated_at, kind="datetime"),
    "scheduled_at": FilterField(Campaign.scheduled_at, kind="datetime"),
}
CAMPAIGN_SORTS = {
    "id": Campaign.id,
    "name": Campaign.name,
    "created_at": Campaign.created_at,
    "updated_at": Campaign.updated_at,
    "scheduled_at": Campaign.scheduled_at,
}


# The omni listing of messages (GET /api/campaign-messages): a message's status is its campaign's.
OMNI_STATUSES = {
    "draft": "Draft",
    "scheduled": "Scheduled",
    "sending": "Sending",
    "sent": "Sent",
    "cancelled": "Cancelled",
}


def _message_status(op: str, value: Any) -> Any:
    status = OMNI_STATUSES.get(str(value).lower(), str(value))
    return CampaignMessage.campaign_id.in_(
        select(Campaign.id).where(
            Campaign.account_id == CampaignMessage.account_id, Campaign.status == status
        )
    )


MESSAGE_FILTERS = {
    "id": FilterField(CampaignMessage.id),
    "campaign_id": FilterField(CampaignMessage.campaign_id),
    "name": FilterField(CampaignMessage.label),
    "status": FilterField(build=_message_status),
    "created": FilterField(CampaignMessage.created_at, kind="datetime"),
    "updated": FilterField(CampaignMessage.updated_at, kind="datetime"),
}
MESSAGE_SORTS = {
    "id": CampaignMessage.id,
    "name": CampaignMessage.label,
    "created": CampaignMessage.created_at,
    "updated": CampaignMessage.updated_at,
}


def messages_query(account_id: str, filter_node: Node | None) -> Select[Any]:
    stmt = select(CampaignMessage).where(CampaignMessage.account_id == account_id)
    if filter_node is not None:
        stmt = stmt.where(compile_filter(filter_node, MESSAGE_FILTERS))
    return stmt


def campaigns_by_id(session: Session, account_id: str, campaign_ids: Iterable[str]) -> dict[str, Campaign]:
    wanted = sorted(set(campaign_ids))
    if not wanted:
        return {}
    stmt = select(Campaign).where(Campaign.account_id == account_id, Campaign.id.in_(wanted))
    return {campaign.id: campaign for campaign in session.execute(stmt).scalars()}


def get_campaign(session: Session, account_id: str, campaign_id: str) -> Campaign | None:
    return session.get(Campaign, (account_id, campaign_id))


def campaigns_query(account_id: str, filter_node: Node | None) -> Select[Any]:
    stmt = select(Campaign).where(Campaign.account_id == account_id)
    if filter_node is not None:
        stmt = stmt.where(compile_filter(filter_node, CAMPAIGN_FILTERS))
    return stmt


def get_message(session: Session, account_id: str, message_id: str) -> CampaignMessage | None:
    return session.get(CampaignMessage, (account_id, message_id))


def messages_of(
    session: Session, account_id: str, campaign_ids: Iterable[str]
) -> dict[str, list[CampaignMessage]]:
    """The messages of these campaigns, by campaign, oldest first."""
    wanted = sorted(set(campaign_ids))
    found: dict[str, list[CampaignMessage]] = {campaign_id: [] for campaign_id in wanted}
    if not wanted:
        return found
    stmt = (
        select(CampaignMessage)
        .where(CampaignMessage.account_id == account_id, CampaignMessage.campaign_id.in_(wanted))
        .order_by(CampaignMessage.campaign_id, CampaignMessage.id)
    )
    for message in session.execute(stmt).scalars():
        found[message.campaign_id].append(message)
    return found


def existing_audience_ids(session: Session, account_id: str, ids: Iterable[str]) -> set[str]:
    """Which of these ids are lists or segments of the account."""
    wanted = sorted({i for i in ids if isinstance(i, str)})
    if not wanted:
        return set()
    lists = select(List.id).where(List.account_id == account_id, List.id.in_(wanted))
    segments = select(Segment.id).where(Segment.account_id == account_id, Segment.id.in_(wanted))
    return set(session.execute(lists).scalars()) | set(session.execute(segments).scalars())


def delete_campaign(session: Session, account_id: str, campaign_id: str) -> None:
    """The campaign, its messages, send job and estimation (children first: SQLite may run
    without foreign keys)."""
    for table in (CampaignSendJob, CampaignRecipientEstimation):
        session.execute(delete(table).where(table.account_id == account_id, table.id == campaign_id))
    session.execute(
        delete(CampaignVariation).where(
            CampaignVariation.account_id == account_id, CampaignVariation.campaign_id == campaign_id
        )
    )
    session.execute(
        delete(CampaignMessage).where(
            CampaignMessage.account_id == account_id, CampaignMessage.campaign_id == campaign_id
        )
    )
    session.execute(delete(Campaign).where(Campaign.account_id == account_id, Campaign.id == campaign_id))


def delete_message(session: Session, account_id: str, message_id: str) -> None:
    """A message and its variations (children first)."""
    session.execute(
        delete(CampaignVariation).where(
            CampaignVariation.account_id == account_id, CampaignVariation.message_id == message_id
        )
    )
    session.execute(
        delete(CampaignMessage).where(
            CampaignMessage.account_id == account_id, CampaignMessage.id == message_id
        )
    )
