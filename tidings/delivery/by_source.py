"""The rows of one source (a campaign message) as a whole: held and released (an A/B test's
rest), withdrawn (a campaign reverted to Draft), and what became of them (a campaign's progress
and its send job's report)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tidings.delivery import repository, service
from tidings.delivery.service import CampaignMessageSource
from tidings.delivery.tables import SendStatus

# A planned row due at this time waits for something to release it (an A/B test's rest, until
# its winner is known): no worker claims it before `release_held` gives it a real due time.
HELD_UNTIL = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


def release_held(
    session: Session,
    account_id: str,
    *,
    source: CampaignMessageSource,
    planned_for: dt.datetime,
    context: dict[str, Any],
) -> int:
    """The source's held rows (planned at HELD_UNTIL): due at `planned_for`, with `context`."""
    kind, source_id, _run, _visit = service.source_columns(source)
    assert source_id is not None
    released = repository.release_held(
        session,
        account_id,
        kind,
        source_id,
        held_until=HELD_UNTIL,
        planned_for=planned_for,
        context=context,
    )
    if released:
        session.info[service.PLANNED_FLAG] = True
    return released


def withdraw(session: Session, account_id: str, *, source: CampaignMessageSource) -> int:
    """Take back a campaign message's rows not sent yet (a scheduled campaign reverted to Draft):
    `planned` rows never claimed are deleted, so that a later send plans them again; `planned`
    rows with an attempt behind them (a retry) are cancelled. Returns how many."""
    kind, source_id, _run, _visit = service.source_columns(source)
    assert source_id is not None
    deleted = repository.delete_unattempted(session, account_id, kind, source_id)
    return deleted + service.cancel(session, account_id, source_id=source_id)


@dataclass(frozen=True)
class SourceReport:
    """What became of a source's rows: rows by status, skipped and failed rows by reason."""

    statuses: dict[str, int]
    reasons: dict[str, dict[str, int]]  # status -> reason -> rows

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def pending(self) -> int:
        return self.statuses.get(SendStatus.PLANNED, 0) + self.statuses.get(SendStatus.SENDING, 0)


def source_report(session: Session, account_id: str, source: CampaignMessageSource) -> SourceReport:
    kind, source_id, _run, _visit = service.source_columns(source)
    assert source_id is not None
    statuses: dict[str, int] = {}
    reasons: dict[str, dict[str, int]] = {}
    for status, reason, count in repository.source_counts(session, account_id, kind, source_id):
        statuses[status] = statuses.get(status, 0) + count
        if reason is not None and status in (SendStatus.SKIPPED, SendStatus.FAILED, SendStatus.UNKNOWN):
            reasons.setdefault(status, {})[reason] = reasons.get(status, {}).get(reason, 0) + count
    return SourceReport(statuses, reasons)


def source_pending(
    session: Session, account_id: str, source: CampaignMessageSource
) -> tuple[bool, dt.datetime | None]:
    """Whether any row of the source is still planned or sending; the earliest planned one's time."""
    kind, source_id, _run, _visit = service.source_columns(source)
    assert source_id is not None
    return repository.source_pending(session, account_id, kind, source_id)
