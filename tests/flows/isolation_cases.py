"""Isolation cases for the flow routes: a key of account B never reads or changes A's flows, and
cannot make a flow on A's lists, segments, metrics or templates (each a 404 at its pointer)."""

from __future__ import annotations

from typing import Any

from tests.events.factories import make_events, metric_id
from tests.isolation import Case, Env, Listing
from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.flows.tables import FlowRun


def _create(env: Env, path: str, body: dict[str, Any]) -> str:
    response = env.as_a("POST", path, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def a_flow(env: Env) -> dict[str, str]:
    list_id = _create(env, "/api/lists", {"data": {"type": "list", "attributes": {"name": "A's"}}})
    template = {
        "data": {"type": "template", "attributes": {"name": "A's", "editor_type": "CODE", "html": "<p>A</p>"}}
    }
    template_id = _create(env, "/api/templates", template)
    make_events(env.db, env.a.id, [{"metric": "A's metric", "properties": {"p": 1}}])
    metric = metric_id(env.db, env.a.id, "A's metric")
    segment = {
        "data": {
            "type": "segment",
            "attributes": {
                "name": "A's",
                "definition": {
                    "condition_groups": [
                        {
                            "conditions": [
                                {
                                    "type": "profile-property",
                                    "property": "email",
                                    "filter": {"type": "existence", "operator": "is-set"},
                                }
                            ]
                        }
                    ]
                },
            },
        }
    }
    segment_id = _create(env, "/api/segments", segment)
    definition = {
        "triggers": [{"type": "list", "id": list_id}],
        "entry_action_id": "e",
        "actions": [
            {
                "temporary_id": "e",
                "type": "send-email",
                "links": {"next": None},
                "data": {
                    "status": "draft",
                    "message": {"subject_line": "A's subject", "template_id": template_id},
                },
            }
        ],
    }
    response = env.as_a(
        "POST",
        "/api/flows",
        json={"data": {"type": "flow", "attributes": {"name": "A's flow", "definition": definition}}},
    )
    assert response.status_code == 201, response.text
    flow = response.json()["data"]
    action = flow["attributes"]["definition"]["actions"][0]
    return {
        "id": flow["id"],
        "flow": flow["id"],
        "action": action["id"],
        "message": action["data"]["message"]["id"],
        "list": list_id,
        "segment": segment_id,
        "metric": metric,
        "template": template_id,
    }


def an_action(env: Env) -> dict[str, str]:
    params = a_flow(env)
    return {**params, "id": params["action"]}


def a_message(env: Env) -> dict[str, str]:
    params = a_flow(env)
    return {**params, "id": params["message"]}


def a_list_trigger(env: Env) -> dict[str, str]:
    params = a_flow(env)
    return {**params, "id": params["list"]}


def a_metric_flow(env: Env) -> dict[str, str]:
    params = a_flow(env)
    definition = {
        "triggers": [{"type": "metric", "id": params["metric"]}],
        "entry_action_id": None,
        "actions": [],
    }
    env.as_a(
        "POST",
        "/api/flows",
        json={"data": {"type": "flow", "attributes": {"name": "M", "definition": definition}}},
    )
    return {**params, "id": params["metric"]}


def a_segment_flow(env: Env) -> dict[str, str]:
    params = a_flow(env)
    definition = {
        "triggers": [{"type": "segment", "id": params["segment"]}],
        "entry_action_id": None,
        "actions": [],
    }
    env.as_a(
        "POST",
        "/api/flows",
        json={"data": {"type": "flow", "attributes": {"name": "S", "definition": definition}}},
    )
    return {**params, "id": params["segment"]}


def a_run(env: Env) -> dict[str, str]:
    """A run of A's flow (written as the executor writes one)."""
    params = a_flow(env)
    now = utcnow()
    run_id = ulid()
    with env.db.write() as session:
        session.add(
            FlowRun(
                account_id=env.a.id,
                id=run_id,
                flow_id=params["flow"],
                profile_id=ulid(),
                trigger_kind="list",
                trigger_key="L",
                status="completed",
                visit=1,
                started_at=now,
                updated_at=now,
            )
        )
    return {**params, "id": run_id}


def flow_unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a(
        "GET", f"/api/flows/{params['flow']}", params={"additional-fields[flow]": "definition"}
    )
    assert response.status_code == 200, response.text
    attributes = response.json()["data"]["attributes"]
    assert attributes["name"] == "A's flow" and attributes["status"] == "draft"
    (action,) = attributes["definition"]["actions"]
    assert action["id"] == params["action"]
    assert action["data"]["message"]["subject_line"] == "A's subject"


def only_a_flows(env: Env, params: dict[str, str]) -> None:
    flow_unchanged(env, params)
    listed = env.client.get("/api/flows", headers=env.b.headers()).json()["data"]
    assert listed == []


def _on(what: str) -> Any:
    def body(p: dict[str, str]) -> Any:
        trigger = {"type": what, "id": p[what]}
        definition = {"triggers": [trigger], "entry_action_id": None, "actions": []}
        return {"data": {"type": "flow", "attributes": {"name": "B's", "definition": definition}}}

    return body


def _with_template(p: dict[str, str]) -> Any:
    definition = {
        "triggers": [],
        "entry_action_id": "e",
        "actions": [
            {"temporary_id": "e", "type": "send-email", "data": {"message": {"template_id": p["template"]}}},
        ],
    }
    return {"data": {"type": "flow", "attributes": {"name": "B's", "definition": definition}}}


def _action_body(p: dict[str, str]) -> Any:
    definition = {
        "id": p["action"],
        "type": "send-email",
        "links": {"next": None},
        "data": {"status": "live", "message": {"subject_line": "B"}},
    }
    return {"data": {"type": "flow-action", "id": p["id"], "attributes": {"definition": definition}}}


def _insert_body(p: dict[str, str]) -> Any:
    definition = {
        "temporary_id": "x",
        "type": "time-delay",
        "links": {"next": p["action"]},
        "data": {"value": 1},
    }
    return {"data": {"type": "flow-action", "attributes": {"definition": definition}}}


def _anchor_body(p: dict[str, str]) -> Any:
    definition = {"temporary_id": "x", "type": "time-delay", "data": {"value": 1}}
    anchor = {
        "type": "flow-action",
        "id": p["action"],
        "attributes": {"definition": {"type": "send-email", "links": {"next": "x"}}},
    }
    return {
        "data": {
            "type": "flow-action",
            "attributes": {"definition": definition, "anchor-action": {"data": anchor}},
        }
    }


CASES = [
    Case("GET", "/api/flows/{id}", a_flow),
    Case("GET", "/api/x-tidings/flows/{id}/runs", a_flow),
    Case("GET", "/api/x-tidings/flow-runs/{id}/steps", a_run),
    Case(
        "PATCH",
        "/api/flows/{id}",
        a_flow,
        body=lambda p: {"data": {"type": "flow", "id": p["id"], "attributes": {"status": "live"}}},
        unchanged=flow_unchanged,
    ),
    Case("DELETE", "/api/flows/{id}", a_flow, unchanged=flow_unchanged),
    # B cannot make a flow on A's list, segment, metric or template.
    Case("POST", "/api/flows", a_flow, body=_on("list"), unchanged=only_a_flows),
    Case("GET", "/api/flows/{id}/flow-actions", a_flow),
    Case("GET", "/api/flows/{id}/relationships/flow-actions", a_flow),
    Case("GET", "/api/flows/{id}/tags", a_flow),
    Case("GET", "/api/flows/{id}/relationships/tags", a_flow),
    Case("GET", "/api/flow-actions/{id}", an_action),
    Case("PATCH", "/api/flow-actions/{id}", an_action, body=_action_body, unchanged=flow_unchanged),
    Case("DELETE", "/api/flow-actions/{id}", an_action, unchanged=flow_unchanged),
    Case("POST", "/api/flow-actions", a_flow, body=_insert_body, unchanged=flow_unchanged),
    Case("GET", "/api/flow-actions/{id}/flow", an_action),
    Case("GET", "/api/flow-actions/{id}/relationships/flow", an_action),
    Case("GET", "/api/flow-actions/{id}/flow-messages", an_action),
    Case("GET", "/api/flow-actions/{id}/relationships/flow-messages", an_action),
    Case("GET", "/api/flow-messages/{id}", a_message),
    Case("GET", "/api/flow-messages/{id}/flow-action", a_message),
    Case("GET", "/api/flow-messages/{id}/relationships/flow-action", a_message),
    Case("GET", "/api/flow-messages/{id}/template", a_message),
    Case("GET", "/api/flow-messages/{id}/relationships/template", a_message),
    Case("GET", "/api/metrics/{id}/flow-triggers", a_metric_flow),
    Case("GET", "/api/metrics/{id}/relationships/flow-triggers", a_metric_flow),
]

LISTINGS = [Listing("/api/flows", lambda env: [a_flow(env)["id"]])]

# More ways B might reach A's things through a body (each a 404).
CASES += [
    Case("POST", "/api/flows", a_flow, body=_on("segment"), unchanged=only_a_flows),
    Case("POST", "/api/flows", a_flow, body=_on("metric"), unchanged=only_a_flows),
    Case("POST", "/api/flows", a_flow, body=_with_template, unchanged=only_a_flows),
    Case("POST", "/api/flow-actions", a_flow, body=_anchor_body, unchanged=flow_unchanged),
]
