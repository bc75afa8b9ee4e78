"""Catalog background jobs: bulk jobs, scheduled feed syncs (see feed_runs for the steps) and
the daily snapshot of purchases that recommendations read."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.catalogs import bulk, feed_runs, recommendations, sync
from tidings.config import get_settings
from tidings.db.base import utcnow
from tidings.jobs.queue import enqueue
from tidings.jobs.registry import JobContext, job

SCHEDULE_SNAPSHOTS_JOB = "catalogs.schedule_snapshots"
SCHEDULE_SNAPSHOTS_SECONDS = 900


def _apply_bulk(session: Session, context: JobContext) -> None:
    bulk.apply(session, context.account_id, str(context.payload["job_id"]))


@job("catalogs.sync_feeds", every_seconds=60)
def enqueue_due_feeds(session: Session, context: JobContext) -> None:
    now = utcnow()
    sync.enqueue_due_feeds(session, now)
    feed_runs.prune_chunks(session, now)


@job(sync.SYNC_JOB)
def sync_feed(session: Session, context: JobContext) -> None:
    """Download and parse the feed, then stage it for the apply steps (in the network lane:
    `sync.enqueue_due_feeds` puts it there)."""
    settings = get_settings()
    feed_runs.download_and_stage(
        session,
        context.account_id,
        context.id,
        str(context.payload["url"]),
        max_bytes=settings.feed_max_bytes,
        timeout=settings.feed_timeout_seconds,
        allow_private=settings.allow_private_urls,
    )


@job(feed_runs.APPLY_JOB)
def apply_feed(session: Session, context: JobContext) -> None:
    """Apply one chunk of a staged feed."""
    feed_runs.apply_step(session, context.account_id, context.payload)


@job(SCHEDULE_SNAPSHOTS_JOB, every_seconds=SCHEDULE_SNAPSHOTS_SECONDS)
def schedule_snapshots(session: Session, context: JobContext) -> None:
    """Queue the day's snapshot of purchases for each account with purchase metrics whose
    snapshot is older than today's window (one job per account and day: the dedup key)."""
    since = recommendations.window_start(utcnow())
    for account_id in recommendations.accounts_due(session, since):
        enqueue(
            session,
            recommendations.SNAPSHOT_JOB,
            account_id=account_id,
            dedup_key=recommendations.snapshot_key(since),
            max_attempts=5,
        )


@job(recommendations.SNAPSHOT_JOB)
def snapshot_purchases(session: Session, context: JobContext) -> None:
    """Build the account's snapshot for today's window; nothing when it already holds it."""
    recommendations.build_snapshot(session, context.account_id, recommendations.window_start(utcnow()))


JOBS = (
    *(job(kind.job_name)(_apply_bulk) for kind in bulk.KINDS),
    enqueue_due_feeds,
    sync_feed,
    apply_feed,
    schedule_snapshots,
    snapshot_purchases,
)
