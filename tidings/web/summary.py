"""The home page's figures: events per day and the health of the account's queue. Aggregates
only (no person), read with the indexes the tables already have."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.events.tables import Event
from tidings.jobs.tables import DEAD, QUEUED, RUNNING, Job

DAYS = 14


def events_per_day(session: Session, account_id: str, days: int = DAYS) -> list[dict[str, Any]]:
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    for back in range(days - 1, -1, -1):  # one index range count a day (account_id, time)
        start = today - dt.timedelta(days=back)
        count = session.scalar(
            select(func.count())
            .select_from(Event)
            .where(
                Event.account_id == account_id, Event.time >= start, Event.time < start + dt.timedelta(days=1)
            )
        )
        out.append({"date": start.date().isoformat(), "count": int(count or 0)})
    return out


def queue_health(session: Session, account_id: str) -> dict[str, Any]:
    rows = session.execute(
        select(Job.status, func.count(), func.min(Job.run_at))
        .where(Job.account_id == account_id, Job.status.in_((QUEUED, RUNNING, DEAD)))
        .group_by(Job.status)
    ).all()
    counts = {status: int(n) for status, n, _oldest in rows}
    oldest = next((when for status, _n, when in rows if status == QUEUED), None)
    lag = max(0.0, (utcnow() - oldest).total_seconds()) if oldest is not None else 0.0
    return {
        "queued": counts.get(QUEUED, 0),
        "running": counts.get(RUNNING, 0),
        "dead": counts.get(DEAD, 0),
        "oldest_queued_seconds": round(lag, 1),
    }
