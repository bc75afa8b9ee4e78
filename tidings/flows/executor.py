"""The flow executor: due runs claimed in batches and moved through their actions, set-wise.

`advance(session, now=)` claims up to `limit` runs whose `due_at` has come (`FOR UPDATE SKIP
LOCKED` on PostgreSQL, so workers share the work; SQLite has one writer and a batch is one short
transaction), then, round after round, groups the runs by (flow, action) and executes each
group at once (tidings/flows/steps.py): one query per filter per group, one insert of ledger
rows per group. A run goes on through instant actions (splits, profile and list updates,
messages: fire and continue) until it reaches a delay (`waiting`, with its `due_at`) or the
end of its path (`completed`), or it exits with a reason (`exited`). Every step is traced in
`flow_run_steps`, and the runs' new positions are written in one statement.

The caller's transaction holds it all: a crash or a rollback leaves the runs as they were,
due, and the next advance does the same steps again. The ledger rows of messages are keyed by
(action, run, visit), and `visit` (the number of steps a run has taken) is the same on the
retry, so no message is planned twice.

`now` is injectable: tests run flows on virtual time by passing it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.dialect import bulk_insert, bulk_update, skip_locked
from tidings.db.ids import ulid
from tidings.flows import entry, steps
from tidings.flows.runtime import Move, Run, Step
from tidings.flows.tables import Flow, FlowAction, FlowMessage, FlowRun, FlowRunStep
from tidings.segments.sql import Unsupported

log = structlog.get_logger("tidings.flows")

BATCH = 500
MAX_STEPS = 50  # steps one run takes in one advance (a guard; graphs are acyclic)
RUN_TABLE = FlowRun.__table__
STEP_TABLE = FlowRunStep.__table__


@dataclass
class Batch:
    """What one advance loaded: flows, actions and messages of the claimed runs."""

    flows: dict[tuple[str, str], Flow] = field(default_factory=dict)
    actions: dict[tuple[str, str], FlowAction] = field(default_factory=dict)
    messages: dict[tuple[str, str], list[FlowMessage]] = field(default_factory=dict)


def claim(session: Session, now: dt.datetime, limit: int) -> list[Run]:
    stmt = (
        select(
            FlowRun.account_id,
            FlowRun.id,
            FlowRun.flow_id,
            FlowRun.profile_id,
            FlowRun.trigger_kind,
            FlowRun.event_id,
            FlowRun.status,
            FlowRun.action_id,
            FlowRun.visit,
            FlowRun.started_at,
        )
        .where(FlowRun.status.in_(entry.RUNNING), FlowRun.due_at <= now)
        .order_by(FlowRun.due_at)
        .limit(limit)
    )
    return [Run(*row) for row in session.execute(skip_locked(session, stmt))]


def _load(session: Session, runs: Sequence[Run]) -> Batch:
    batch = Batch()
    by_account: dict[str, set[str]] = defaultdict(set)
    for run in runs:
        by_account[run.account_id].add(run.flow_id)
    for account_id, flow_ids in by_account.items():
        ids = sorted(flow_ids)
        for flow in session.execute(
            select(Flow).where(Flow.account_id == account_id, Flow.id.in_(ids))
        ).scalars():
            batch.flows[(account_id, flow.id)] = flow
        stmt = select(FlowAction).where(FlowAction.account_id == account_id, FlowAction.flow_id.in_(ids))
        for action in session.execute(stmt).scalars():
            batch.actions[(account_id, action.id)] = action
        stmt2 = select(FlowMessage).where(FlowMessage.account_id == account_id, FlowMessage.flow_id.in_(ids))
        for message in session.execute(stmt2).scalars():
            batch.messages.setdefault((account_id, message.action_id), []).append(message)
    return batch


def advance(session: Session, *, now: dt.datetime | None = None, limit: int = BATCH) -> int:
    """Advance the runs due at `now` (at most `limit`); returns how many were claimed."""
    now = now or utcnow()
    runs = claim(session, now, limit)
    if not runs:
        return 0
    batch = _load(session, runs)
    trace: list[Step] = []
    pending = list(runs)
    for _ in range(MAX_STEPS):
        if not pending:
            break
        groups: dict[tuple[str, str, str | None], list[Run]] = defaultdict(list)
        for run in pending:
            groups[(run.account_id, run.flow_id, run.action_id)].append(run)
        pending = []
        for (account_id, flow_id, action_id), members in groups.items():
            flow = batch.flows.get((account_id, flow_id))
            action = batch.actions.get((account_id, action_id)) if action_id else None
            moves = _execute(session, batch, flow, action, action_id, members, now, trace)
            for run in members:
                move = moves[run.id]
                if _apply(run, move, now, trace):
                    pending.append(run)
    for run in pending:  # took MAX_STEPS steps: the rest next time
        run.due_at = now
    _write(session, runs, trace, now)
    return len(runs)


def _execute(
    session: Session,
    batch: Batch,
    flow: Flow | None,
    action: FlowAction | None,
    action_id: str | None,
    runs: list[Run],
    now: dt.datetime,
    trace: list[Step],
) -> dict[str, Move]:
    if flow is None:
        return {r.id: Move.exit("Flow Deleted") for r in runs}
    # One group in a savepoint: a group that fails (a filter the compiler cannot evaluate, bad
    # data) ends its runs with the reason, and the rest of the batch goes on.
    mark = len(trace)
    try:
        with session.begin_nested():
            return _step(session, batch, flow, action, action_id, runs, now, trace)
    except Unsupported as error:
        del trace[mark:]
        return {r.id: Move.exit(f"Filter not evaluated: {error}"[:255]) for r in runs}
    except Exception as error:
        del trace[mark:]
        log.exception("flows.step_failed", flow=flow.id, action=action_id, runs=len(runs))
        return {r.id: Move.exit(f"Step failed: {type(error).__name__}: {error}"[:255]) for r in runs}


def _step(
    session: Session,
    batch: Batch,
    flow: Flow,
    action: FlowAction | None,
    action_id: str | None,
    runs: list[Run],
    now: dt.datetime,
    trace: list[Step],
) -> dict[str, Move]:
    fresh = [r for r in runs if r.visit == 0]
    moves: dict[str, Move] = {}
    if fresh:  # entering: the flow filter, once
        ok = steps.flow_filter_passes(session, flow, fresh, now)
        for run in fresh:
            if run.id in ok:
                trace.append(Step(run, None, "entered", None))
                run.visit = 1
            else:
                moves[run.id] = Move.exit("Fails Flow Filters")
        runs = [r for r in runs if r.id not in moves]
    if not runs:
        return moves
    if action_id is None:
        moves.update({r.id: Move.complete() for r in runs})
        return moves
    if action is None:  # removed by an edit while the run waited for it
        moves.update({r.id: Move.exit("Action Removed") for r in runs})
        return moves
    messages = batch.messages.get((action.account_id, action.id), [])
    moves.update(steps.execute(session, flow, action, messages, runs, now, trace))
    return moves


def _apply(run: Run, move: Move, now: dt.datetime, trace: list[Step]) -> bool:
    """Set the run's new position; True when it goes on at once."""
    run.changed = True
    if move.kind == "exit":
        run.status, run.exit_reason, run.due_at = "exited", (move.reason or "")[:255], None
        trace.append(Step(run, run.action_id, "exited", move.reason))
        return False
    if move.kind == "wait":
        run.status, run.due_at = "waiting", move.due_at
        return False
    run.visit += 1
    run.status, run.action_id = "active", move.target
    if move.target is None:
        run.status, run.due_at = "completed", None
        trace.append(Step(run, None, "completed", None))
        return False
    run.due_at = now
    return True


def _write(session: Session, runs: Sequence[Run], trace: Sequence[Step], now: dt.datetime) -> None:
    bulk_update(
        session,
        RUN_TABLE,  # type: ignore[arg-type]
        [
            {
                "account_id": r.account_id,
                "id": r.id,
                "status": r.status,
                "action_id": r.action_id,
                "due_at": r.due_at,
                "visit": r.visit,
                "updated_at": now,
                "exit_reason": r.exit_reason,
            }
            for r in runs
        ],
        keys=("account_id", "id"),
    )
    prefix = ulid()[:10]  # ids in the order the steps happened (the trace's order)
    bulk_insert(
        session,
        STEP_TABLE,  # type: ignore[arg-type]
        [
            {
                "account_id": s.run.account_id,
                "id": f"{prefix}{seq:016d}",
                "run_id": s.run.id,
                "flow_id": s.run.flow_id,
                "action_id": s.action_id,
                "visit": s.visit,
                "outcome": s.outcome,
                "reason": s.reason[:255] if s.reason else None,
                "send_id": s.send_id,
                "at": now,
            }
            for seq, s in enumerate(trace)
        ],
    )
