"""Background work of campaigns: deciding a send's recipients, following it until it is sent,
estimating recipients."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.campaigns import ab, estimation, sending
from tidings.jobs.registry import JobContext, job


@job(sending.SEND_JOB)
def send(session: Session, context: JobContext) -> None:
    """A campaign's recipients into the ledger (one INSERT ... SELECT), with their due times."""
    sending.plan_recipients(session, context.account_id, str(context.payload["campaign_id"]))


@job(sending.PROGRESS_JOB)
def progress(session: Session, context: JobContext) -> None:
    """Scheduled → Sending → Sent as the campaign's ledger rows come due and settle."""
    sending.progress(session, context.account_id, str(context.payload["campaign_id"]))


@job(ab.WINNER_JOB)
def ab_winner(session: Session, context: JobContext) -> None:
    """An A/B test's winner, after its test window; the rest of the audience is sent it."""
    payload = context.payload
    planned_at = payload.get("planned_at")
    sending.decide_ab_test(
        session,
        context.account_id,
        str(payload["campaign_id"]),
        str(payload["message_id"]),
        str(planned_at) if planned_at is not None else None,
    )


@job(estimation.ESTIMATE_JOB)
def estimate(session: Session, context: JobContext) -> None:
    estimation.estimate(session, context.account_id, str(context.payload["campaign_id"]))


JOBS = (send, progress, ab_winner, estimate)
