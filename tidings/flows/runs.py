"""Ending a flow's runs at once (the flow deleted): each exits with the reason, traced."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tidings.db.chunks import chunked
from tidings.db.dialect import bulk_insert
from tidings.db.ids import ulid
from tidings.flows.entry import RUNNING
from tidings.flows.tables import FlowRun, FlowRunStep


def end_runs(session: Session, account_id: str, flow_id: str, reason: str, now: dt.datetime) -> int:
    stmt = select(FlowRun.id, FlowRun.action_id, FlowRun.visit).where(
        FlowRun.account_id == account_id, FlowRun.flow_id == flow_id, FlowRun.status.in_(RUNNING)
    )
    found = list(session.execute(stmt))
    prefix = ulid()[:10]
    for chunk in chunked(found, 1000):
        ids = [run_id for run_id, _, _ in chunk]
        session.execute(
            update(FlowRun)
            .where(FlowRun.account_id == account_id, FlowRun.id.in_(ids))
            .values(status="exited", exit_reason=reason, due_at=None, updated_at=now)
        )
    bulk_insert(
        session,
        FlowRunStep.__table__,  # type: ignore[arg-type]
        [
            {
                "account_id": account_id,
                "id": f"{prefix}{seq:016d}",
                "run_id": run_id,
                "flow_id": flow_id,
                "action_id": action_id,
                "visit": visit,
                "outcome": "exited",
                "reason": reason,
                "send_id": None,
                "at": now,
            }
            for seq, (run_id, action_id, visit) in enumerate(found)
        ],
    )
    return len(found)
