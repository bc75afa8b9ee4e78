"""Tidings' own endpoints over flow runs: why a person did or did not get a message.

GET /api/x-tidings/flows/{id}/runs        the flow's runs, newest first (filters: profile_id,
                                           status)
GET /api/x-tidings/flow-runs/{id}/steps   a run's trace, in order: entered, waiting, sent
                                           (with the ledger row), skipped (with Klaviyo's reason),
                                           branched, updated, exited (with the reason), completed
"""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from tidings.flows import service
from tidings.flows.tables import FlowRun, FlowRunStep
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, iso
from tidings.jsonapi.errors import NotFound
from tidings.jsonapi.filters import FilterField
from tidings.jsonapi.spec import Operation

router = APIRouter(prefix="/api/x-tidings", tags=["Tidings extensions"])

GET_RUNS = Operation(
    operation_id="x_tidings_get_flow_runs",
    method="GET",
    path="/api/x-tidings/flows/{id}/runs",
    tag="Tidings extensions",
    scopes=("flows:read",),
    burst=10,
    steady=150,
    filters={"profile_id": ["equals", "any"], "status": ["equals", "any"]},
    sorts=("id", "-id"),
    page_default=100,
    page_max=1000,
    cursor=True,
)
GET_STEPS = Operation(
    operation_id="x_tidings_get_flow_run_steps",
    method="GET",
    path="/api/x-tidings/flow-runs/{id}/steps",
    tag="Tidings extensions",
    scopes=("flows:read",),
    burst=10,
    steady=150,
    filters={},
    sorts=(),
    page_default=100,
    page_max=1000,
    cursor=True,
)
OPERATIONS = (GET_RUNS, GET_STEPS)

FILTERS = {
    "profile_id": FilterField(FlowRun.profile_id),
    "status": FilterField(FlowRun.status),
}


def run_resource(run: FlowRun) -> dict[str, object]:
    return {
        "type": "flow-run",
        "id": run.id,
        "attributes": {
            "flow_id": run.flow_id,
            "profile_id": run.profile_id,
            "trigger": run.trigger_kind,
            "event_id": run.event_id,
            "status": run.status,
            "action_id": run.action_id,
            "due_at": iso(run.due_at) if run.due_at else None,
            "started_at": iso(run.started_at),
            "updated_at": iso(run.updated_at),
            "steps_taken": run.visit,
            "exit_reason": run.exit_reason,
        },
    }


def step_resource(step: FlowRunStep) -> dict[str, object]:
    return {
        "type": "flow-run-step",
        "id": step.id,
        "attributes": {
            "run_id": step.run_id,
            "action_id": step.action_id,
            "visit": step.visit,
            "outcome": step.outcome,
            "reason": step.reason,
            "send_id": step.send_id,
            "at": iso(step.at),
        },
    }


@router.get("/flows/{id}/runs", operation_id="x_tidings_get_flow_runs")
def get_flow_runs(id: str, ctx: ApiContext = api(GET_RUNS)) -> JSONAPIResponse:
    service.get_flow(ctx.session, ctx.account_id, id)  # a 404 for another account's flow
    stmt = select(FlowRun).where(FlowRun.account_id == ctx.account_id, FlowRun.flow_id == id)
    page = ctx.page(stmt, sort_column=FlowRun.id, id_column=FlowRun.id, filters=FILTERS)
    data = [run_resource(run) for run in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.get("/flow-runs/{id}/steps", operation_id="x_tidings_get_flow_run_steps")
def get_flow_run_steps(id: str, ctx: ApiContext = api(GET_STEPS)) -> JSONAPIResponse:
    if len(id) > 26 or ctx.session.get(FlowRun, (ctx.account_id, id)) is None:
        raise NotFound(f"A flow run with id {id} does not exist.")
    stmt = select(FlowRunStep).where(FlowRunStep.account_id == ctx.account_id, FlowRunStep.run_id == id)
    page = ctx.page(stmt, sort_column=FlowRunStep.id, id_column=FlowRunStep.id, descending=False)
    data = [step_resource(step) for step in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))
