"""Sending a campaign: the send job, Klaviyo's status machine, cancel and revert.

    Draft ──send──► Adding Recipients ──plan──► Scheduled ──its time──► Sending ──all final──► Sent
      ▲                   │                        │                      │
      └──────revert───────┴────────────────────────┘                      │
                          └──cancel──► Cancelled ◄──────cancel────────────┘
    (no recipient planned: Cancelled: No Recipients; every one skipped: Cancelled: Smart Sending
     when smart sending skipped them all, else Cancelled: No Recipients)

- `request_send` (POST /api/campaign-send-jobs) moves a Draft to `Adding Recipients` and enqueues
  `campaigns.send` in the same transaction; asking again for a campaign already on its way
  answers the same job and does nothing more (a double click sends once).
- `campaigns.send` (`plan_recipients`) decides the recipients when it runs, right after the
  request (Klaviyo's default: recipients are fixed when the campaign is scheduled): the
  audience goes into the ledger in one INSERT ... SELECT with each row's due time
  (`schedule.py`), and the campaign is `Scheduled` until its first row is due, then `Sending`.
- `campaigns.progress` follows the ledger until every row of the campaign is final (sent,
  skipped, failed, cancelled, unknown), then marks it `Sent`. Consent, suppressions and smart
  sending are the delivery gate's, at send time, each skip with its reason in the ledger.
- `cancel_send` (`cancel`) cancels the planned rows in the same transaction as the status; rows
  already handed to a worker finish, and `campaigns.progress` cancels what a retry puts back.
  `revert` takes a campaign that has sent nothing back to Draft, deleting its unsent rows.

Campaign statuses here are Klaviyo's words; the job's status is Klaviyo's job status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.campaigns import ab, repository, resolver, schedule
from tidings.campaigns.tables import Campaign, CampaignMessage, CampaignSendJob
from tidings.campaigns.variants import all_of, merged
from tidings.db.base import utcnow
from tidings.delivery import by_source
from tidings.delivery import service as delivery
from tidings.delivery.by_source import HELD_UNTIL, SourceReport
from tidings.delivery.service import CampaignMessageSource, SkipReason
from tidings.delivery.tables import Channel, SendStatus
from tidings.delivery.transactional import FALLBACK_DOMAIN, message_domain
from tidings.jobs.queue import enqueue
from tidings.jsonapi.errors import InvalidInput, NotFound

DRAFT = "Draft"
ADDING_RECIPIENTS = "Adding Recipients"
SCHEDULED = "Scheduled"
SENDING = "Sending"
SENT = "Sent"
CANCELLED = "Cancelled"
NO_RECIPIENTS = "Cancelled: No Recipients"
ALL_SMART_SENDING = "Cancelled: Smart Sending"

UNDER_WAY = frozenset({ADDING_RECIPIENTS, SCHEDULED, SENDING})  # may be cancelled
REVERTIBLE = frozenset({ADDING_RECIPIENTS, SCHEDULED})  # nothing sent yet

# Klaviyo's job statuses.
JOB_QUEUED = "queued"
JOB_PROCESSING = "processing"
JOB_COMPLETE = "complete"
JOB_CANCELLED = "cancelled"

SEND_JOB = "campaigns.send"
PROGRESS_JOB = "campaigns.progress"
PROGRESS_SECONDS = 5.0  # how often a campaign being sent looks at its ledger rows

CHANNELS = {"email": Channel.EMAIL, "sms": Channel.SMS, "mobile_push": Channel.PUSH}
ATTEMPTED = (SendStatus.SENT, SendStatus.FAILED, SendStatus.UNKNOWN, SendStatus.SENDING)


def _lock(session: Session, account_id: str, campaign_id: str) -> Campaign:
    """The campaign, locked until the transaction ends (a send, a cancel and planning in turn)."""
    query = select(Campaign).where(Campaign.account_id == account_id, Campaign.id == campaign_id)
    campaign = (
        session.execute(
            query.with_for_update().execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if len(campaign_id) <= 26
        else None
    )
    if campaign is None:
        raise NotFound(f"A campaign with id {campaign_id} does not exist.", pointer="/data/id")
    return campaign


def get_send_job(session: Session, account_id: str, campaign_id: str) -> CampaignSendJob:
    job = session.get(CampaignSendJob, (account_id, campaign_id)) if len(campaign_id) <= 26 else None
    if job is None:
        raise NotFound(f"A campaign send job with id {campaign_id} does not exist.")
    return job


def _messages(session: Session, campaign: Campaign) -> list[CampaignMessage]:
    return repository.messages_of(session, campaign.account_id, [campaign.id])[campaign.id]


def _check_sendable(session: Session, campaign: Campaign, now: dt.datetime) -> None:
    """What Klaviyo refuses before a send: a message without content, a time in the past."""
    strategy = campaign.send_strategy or {}
    if not _messages(session, campaign):
        raise InvalidInput("The campaign has no message; create one before sending.", pointer="/data/id")
    for stored in _messages(session, campaign):
        found = all_of(session, stored)
        if len(found) > 1 and (strategy.get("method") == "throttled" or schedule.is_local(strategy)):
            raise InvalidInput(
                "An A/B test is sent immediately, at a static time or at the smart send time, not"
                " throttled or in each recipient's local time; change its send_strategy.",
                pointer="/data/id",
            )
        for variation in found:
            message = merged(stored, variation.variation)
            content = message.definition.get("content") or {}
            whose = "message" if variation.variation is None else f"variation {variation.id}"
            if message.channel == "email" and not (message.template_html or message.template_text):
                raise InvalidInput(
                    f"The campaign's {whose} has no template; assign one before sending.", pointer="/data/id"
                )
            if message.channel != "email" and not content.get("body"):
                raise InvalidInput(
                    f"The campaign's {whose} has no body; add one before sending.", pointer="/data/id"
                )
    if schedule.in_the_past(campaign.send_strategy or {}, now):
        raise InvalidInput(
            "The campaign's send time is in the past; update its send_strategy before sending.",
            pointer="/data/id",
        )


def request_send(session: Session, account_id: str, campaign_id: str) -> CampaignSendJob:
    """Start sending a Draft (202); a campaign already on its way answers its job unchanged."""
    campaign = _lock(session, account_id, campaign_id)
    job = session.get(CampaignSendJob, (account_id, campaign_id))
    if campaign.status != DRAFT:
        if job is not None and (campaign.status in UNDER_WAY or campaign.status == SENT):
            return job  # asked twice: one send
        raise InvalidInput(
            f"A campaign with status {campaign.status!r} cannot be sent; clone it to send it again.",
            pointer="/data/id",
        )
    now = utcnow()
    _check_sendable(session, campaign, now)
    campaign.status = ADDING_RECIPIENTS
    campaign.scheduled_at = now
    campaign.updated_at = now
    if job is None:
        job = CampaignSendJob(account_id=account_id, id=campaign_id)
        session.add(job)
    job.status = JOB_QUEUED
    job.recipients = None
    job.first_due = None
    job.requested_at = now
    job.planned_at = None
    job.finished_at = None
    enqueue(session, SEND_JOB, {"campaign_id": campaign_id}, account_id=account_id)
    session.flush()
    return job


def plan_recipients(
    session: Session, account_id: str, campaign_id: str, now: dt.datetime | None = None
) -> None:
    """The job `campaigns.send`: the audience into the ledger, the campaign Scheduled or Sending."""
    now = now or utcnow()
    try:
        campaign = _lock(session, account_id, campaign_id)
    except NotFound:
        return  # deleted meanwhile
    job = session.get(CampaignSendJob, (account_id, campaign_id))
    if campaign.status != ADDING_RECIPIENTS or job is None:
        return  # cancelled or reverted before its recipients were decided
    plan = schedule.plan(session, campaign, now)
    recipients = 0
    for message in _messages(session, campaign):
        source = CampaignMessageSource(message.id)
        definition = resolver.resolve(session, account_id, message.id)
        domain = (
            message_domain(session, account_id, definition, f"tidings@{FALLBACK_DOMAIN}")
            if definition is not None
            else FALLBACK_DOMAIN
        )
        if len(all_of(session, message)) > 1:
            at = plan.at if plan.at is not None else plan.first_due
            ab.plan_test(
                session,
                campaign,
                message,
                plan.profiles,
                channel=CHANNELS[message.channel],
                domain=domain,
                at=at,
                planned_at=now,
            )
            recipients += by_source.source_report(session, account_id, source).total
            continue
        recipients += delivery.plan_many(
            session,
            account_id,
            source=source,
            profiles=plan.profiles,
            channel=CHANNELS[message.channel],
            domain=domain,
            planned_for=plan.at,
        )
    job.recipients = recipients
    job.planned_at = now
    job.first_due = plan.first_due
    campaign.send_time = plan.first_due
    campaign.updated_at = now
    if not recipients:
        _finish(campaign, job, NO_RECIPIENTS, JOB_CANCELLED, now)
        return
    job.status = JOB_PROCESSING
    campaign.status = SENDING if plan.first_due <= now else SCHEDULED
    _follow(session, campaign, max(plan.first_due, now))


def _follow(session: Session, campaign: Campaign, at: dt.datetime) -> None:
    enqueue(session, PROGRESS_JOB, {"campaign_id": campaign.id}, account_id=campaign.account_id, run_at=at)


def _finish(campaign: Campaign, job: CampaignSendJob, status: str, job_status: str, now: dt.datetime) -> None:
    campaign.status = status
    campaign.updated_at = now
    job.status = job_status
    job.finished_at = now


def progress(session: Session, account_id: str, campaign_id: str, now: dt.datetime | None = None) -> None:
    """The job `campaigns.progress`: Scheduled → Sending when the first row is due, Sending → Sent
    when every row is final; a cancelled campaign's planned rows (retries) cancelled again."""
    now = now or utcnow()
    try:
        campaign = _lock(session, account_id, campaign_id)
    except NotFound:
        return
    job = session.get(CampaignSendJob, (account_id, campaign_id))
    if job is None or campaign.status not in (SCHEDULED, SENDING, CANCELLED):
        return
    messages = _messages(session, campaign)
    pending, earliest = False, None
    for message in messages:
        source = CampaignMessageSource(message.id)
        if campaign.status == CANCELLED:
            delivery.cancel(session, account_id, source_id=message.id)
        waiting, due = by_source.source_pending(session, account_id, source)
        if due is not None and due >= HELD_UNTIL:  # only an A/B test's rest waits: until its winner
            due = max(ab.decides_at(message, job.first_due or now), now)
        pending = pending or waiting
        if due is not None and (earliest is None or due < earliest):
            earliest = due
    if campaign.status == SCHEDULED and job.first_due is not None and job.first_due <= now:
        campaign.status = SENDING
        campaign.updated_at = now
    if not pending:
        if campaign.status != CANCELLED:
            reports = [
                by_source.source_report(session, account_id, CampaignMessageSource(m.id)) for m in messages
            ]
            status = final_status(reports)
            _finish(campaign, job, status, JOB_COMPLETE if status == SENT else JOB_CANCELLED, now)
        return
    soon = now + dt.timedelta(seconds=PROGRESS_SECONDS)
    _follow(session, campaign, earliest if earliest is not None and earliest > soon else soon)


def decide_ab_test(
    session: Session,
    account_id: str,
    campaign_id: str,
    message_id: str,
    planned_at: str | None,
    now: dt.datetime | None = None,
) -> str | None:
    """The job `campaigns.ab_winner`: the test's winner, and the held rest sent it; nothing when
    the campaign was cancelled, reverted or sent again meanwhile (another planning)."""
    now = now or utcnow()
    try:
        campaign = _lock(session, account_id, campaign_id)
    except NotFound:
        return None
    job = session.get(CampaignSendJob, (account_id, campaign_id))
    message = session.get(CampaignMessage, (account_id, message_id))
    if job is None or message is None or campaign.status not in (SCHEDULED, SENDING):
        return None
    if message.winner_id is not None or job.planned_at is None or job.planned_at.isoformat() != planned_at:
        return None
    winner = ab.decide(session, message, now)
    campaign.status = SENDING
    campaign.updated_at = now
    _follow(session, campaign, now)
    return winner


def final_status(reports: list[SourceReport]) -> str:
    """Sent when anything was attempted; otherwise why nobody got it."""
    attempted = sum(r.statuses.get(s, 0) for r in reports for s in ATTEMPTED)
    if attempted:
        return SENT
    skipped = [r.reasons.get(SendStatus.SKIPPED, {}) for r in reports]
    smart = sum(s.get(SkipReason.SMART_SENDING.value, 0) for s in skipped)
    if smart and smart == sum(sum(s.values()) for s in skipped):
        return ALL_SMART_SENDING
    return NO_RECIPIENTS


def cancel_send(session: Session, account_id: str, campaign_id: str, action: str) -> CampaignSendJob:
    """PATCH /api/campaign-send-jobs/{id}: `cancel` (for good) or `revert` (back to Draft)."""
    campaign = _lock(session, account_id, campaign_id)
    job = get_send_job(session, account_id, campaign_id)
    now = utcnow()
    messages = _messages(session, campaign)
    if action == "revert":
        if campaign.status not in REVERTIBLE:
            raise InvalidInput(
                f"A campaign with status {campaign.status!r} cannot be reverted to Draft"
                + ("; cancel it instead." if campaign.status == SENDING else "."),
                pointer="/data/attributes/action",
            )
        for message in messages:
            by_source.withdraw(session, account_id, source=CampaignMessageSource(message.id))
        _finish(campaign, job, DRAFT, JOB_CANCELLED, now)
        campaign.scheduled_at = None
        session.flush()
        return job
    if campaign.status not in UNDER_WAY:
        raise InvalidInput(
            f"A campaign with status {campaign.status!r} cannot be cancelled.",
            pointer="/data/attributes/action",
        )
    for message in messages:
        delivery.cancel(session, account_id, source_id=message.id)
    _finish(campaign, job, CANCELLED, JOB_CANCELLED, now)
    _follow(session, campaign, now + dt.timedelta(seconds=PROGRESS_SECONDS))
    session.flush()
    return job


def withdraw_all(session: Session, campaign: Campaign) -> None:
    """A deleted campaign's unsent rows: none of them is sent."""
    for message in _messages(session, campaign):
        by_source.withdraw(session, campaign.account_id, source=CampaignMessageSource(message.id))


@dataclass(frozen=True)
class SendJobReport:
    job: CampaignSendJob
    reports: list[SourceReport]
    ab_tests: list[dict[str, Any]]  # ab.report of each message that is an A/B test


def send_job_report(session: Session, account_id: str, campaign_id: str) -> SendJobReport:
    """The job with what became of its ledger rows (by status, skips and failures by reason)."""
    job = get_send_job(session, account_id, campaign_id)
    messages = repository.messages_of(session, account_id, [campaign_id])[campaign_id]
    reports = [by_source.source_report(session, account_id, CampaignMessageSource(m.id)) for m in messages]
    tests = [ab.report(session, m) for m in messages if len(all_of(session, m)) > 1]
    return SendJobReport(job, reports, tests)
