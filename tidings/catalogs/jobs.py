"""Catalog background jobs: bulk jobs and scheduled feed syncs (see feed_runs for the steps)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.catalogs import bulk, feed_runs, sync
from tidings.config import get_settings
from tidings.db.base import utcnow
from tidings.jobs.registry import JobContext, job


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


JOBS = (
    *(job(kind.job_name)(_apply_bulk) for kind in bulk.KINDS),
    enqueue_due_feeds,
    sync_feed,
    apply_feed,
)
