"""Recipient estimation: how many people a campaign would reach if it were sent now.

POST /api/campaign-recipient-estimation-jobs queues `campaigns.estimate`; the job counts the
audience (included minus excluded, each person once) who may receive the channel's marketing
(`audience.estimate`, one SQL count) and keeps the figure for
GET /api/campaign-recipient-estimations/{id}. Both resources carry the campaign's id.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tidings.campaigns import audience, repository
from tidings.campaigns.tables import CampaignRecipientEstimation
from tidings.db.base import utcnow
from tidings.jobs.queue import enqueue
from tidings.jsonapi.errors import NotFound

ESTIMATE_JOB = "campaigns.estimate"


def request_estimation(session: Session, account_id: str, campaign_id: str) -> CampaignRecipientEstimation:
    campaign = repository.get_campaign(session, account_id, campaign_id) if len(campaign_id) <= 26 else None
    if campaign is None:
        raise NotFound(f"A campaign with id {campaign_id} does not exist.", pointer="/data/id")
    estimation = session.get(CampaignRecipientEstimation, (account_id, campaign_id))
    now = utcnow()
    if estimation is None or estimation.status != "queued":  # one job at a time is enough
        enqueue(session, ESTIMATE_JOB, {"campaign_id": campaign_id}, account_id=account_id)
    if estimation is None:
        estimation = CampaignRecipientEstimation(account_id=account_id, id=campaign_id)
        session.add(estimation)
    estimation.status = "queued"
    estimation.requested_at = now
    session.flush()
    return estimation


def estimate(session: Session, account_id: str, campaign_id: str, now: dt.datetime | None = None) -> None:
    """The job `campaigns.estimate`."""
    campaign = repository.get_campaign(session, account_id, campaign_id)
    estimation = session.get(CampaignRecipientEstimation, (account_id, campaign_id))
    if campaign is None or estimation is None:
        return
    estimation.estimated_recipient_count = audience.estimate(
        session, account_id, campaign.audiences, campaign.channel
    )
    estimation.status = "complete"
    estimation.estimated_at = now or utcnow()


def get_estimation_job(session: Session, account_id: str, campaign_id: str) -> CampaignRecipientEstimation:
    estimation = _get(session, account_id, campaign_id)
    if estimation is None:
        raise NotFound(f"A campaign recipient estimation job with id {campaign_id} does not exist.")
    return estimation


def get_estimation(session: Session, account_id: str, campaign_id: str) -> CampaignRecipientEstimation:
    estimation = _get(session, account_id, campaign_id)
    if estimation is None or estimation.estimated_recipient_count is None:
        raise NotFound(
            f"No recipient estimation for campaign {campaign_id} yet; "
            "create a campaign-recipient-estimation-job first."
        )
    return estimation


def _get(session: Session, account_id: str, campaign_id: str) -> CampaignRecipientEstimation | None:
    if len(campaign_id) > 26:
        return None
    return session.get(CampaignRecipientEstimation, (account_id, campaign_id))
