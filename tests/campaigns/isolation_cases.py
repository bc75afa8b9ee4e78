"""Isolation cases for the campaign routes: a key of account B never reads or changes A's campaigns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.isolation import EXEMPT, Case, Env, Listing
from tidings.jobs.worker import drain

STABLE = "2026-07-15"

# Creation names lists and segments in its audiences: another account's are refused like unknown
# ones, a 400 at their pointer (tests/campaigns/test_campaigns_http.py checks it).
EXEMPT[("POST", "/api/campaigns")] = "creates a campaign; another account's audience ids are a 400 (tested)"


def a_campaign(env: Env) -> dict[str, str]:
    response = env.as_a("POST", "/api/lists", json={"data": {"type": "list", "attributes": {"name": "A's"}}})
    assert response.status_code == 201, response.text
    list_id = response.json()["data"]["id"]
    template = {
        "data": {"type": "template", "attributes": {"name": "A's", "editor_type": "CODE", "html": "<p>A</p>"}}
    }
    response = env.as_a("POST", "/api/templates", json=template)
    assert response.status_code == 201, response.text
    template_id = response.json()["data"]["id"]
    body = {
        "data": {
            "type": "campaign",
            "attributes": {
                "name": "A's campaign",
                "audiences": {"included": [list_id]},
                "campaign-messages": {
                    "data": [
                        {
                            "type": "campaign-message",
                            "attributes": {
                                "definition": {"channel": "email", "content": {"subject": "A's subject"}}
                            },
                        }
                    ]
                },
            },
        }
    }
    response = env.client.post("/api/campaigns", json=body, headers=env.a.headers(STABLE))
    assert response.status_code == 201, response.text
    campaign = response.json()["data"]
    message_id = campaign["relationships"]["campaign-messages"]["data"][0]["id"]
    assigned = env.as_a(
        "POST",
        "/api/campaign-message-assign-template",
        json={
            "data": {
                "type": "campaign-message",
                "id": message_id,
                "relationships": {"template": {"data": {"type": "template", "id": template_id}}},
            }
        },
    )
    assert assigned.status_code == 200, assigned.text
    return {"id": campaign["id"], "message": message_id, "list": list_id, "template": template_id}


def a_message(env: Env) -> dict[str, str]:
    params = a_campaign(env)
    return {**params, "campaign": params["id"], "id": params["message"]}


def campaign_unchanged(env: Env, params: dict[str, str]) -> None:
    campaign_id = params.get("campaign", params["id"])
    response = env.as_a("GET", f"/api/campaigns/{campaign_id}")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"]["name"] == "A's campaign"


def message_unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/campaign-messages/{params['message']}")
    assert response.status_code == 200, response.text
    definition = response.json()["data"]["attributes"]["definition"]
    assert definition["content"]["subject"] == "A's subject"
    template = env.as_a("GET", f"/api/campaign-messages/{params['message']}/template").json()["data"]
    assert template["attributes"]["html"] == "<p>A</p>"


def _message_body(params: dict[str, str]) -> Any:
    definition = {"channel": "email", "content": {"subject": "B"}}
    return {
        "data": {"type": "campaign-message", "id": params["id"], "attributes": {"definition": definition}}
    }


CASES = [
    Case("GET", "/api/campaigns/{id}", a_campaign),
    Case(
        "PATCH",
        "/api/campaigns/{id}",
        a_campaign,
        body=lambda p: {"data": {"type": "campaign", "id": p["id"], "attributes": {"name": "B"}}},
        unchanged=campaign_unchanged,
    ),
    Case("DELETE", "/api/campaigns/{id}", a_campaign, unchanged=campaign_unchanged),
    Case(
        "POST",
        "/api/campaign-clone",
        a_campaign,
        body=lambda p: {"data": {"type": "campaign", "id": p["id"], "attributes": {"new_name": "B"}}},
    ),
    Case("GET", "/api/campaigns/{id}/campaign-messages", a_campaign),
    Case("GET", "/api/campaigns/{id}/relationships/campaign-messages", a_campaign),
    Case("GET", "/api/campaigns/{id}/tags", a_campaign),
    Case("GET", "/api/campaigns/{id}/relationships/tags", a_campaign),
    Case("GET", "/api/campaign-messages/{id}", a_message),
    Case("PATCH", "/api/campaign-messages/{id}", a_message, body=_message_body, unchanged=message_unchanged),
    Case(
        "POST",
        "/api/campaign-message-assign-template",
        a_message,
        body=lambda p: {
            "data": {
                "type": "campaign-message",
                "id": p["id"],
                "relationships": {"template": {"data": {"type": "template", "id": p["template"]}}},
            }
        },
        unchanged=message_unchanged,
    ),
    Case("GET", "/api/campaign-messages/{id}/campaign", a_message),
    Case("GET", "/api/campaign-messages/{id}/relationships/campaign", a_message),
    Case("GET", "/api/campaign-messages/{id}/template", a_message),
    Case("GET", "/api/campaign-messages/{id}/relationships/template", a_message),
]

LISTINGS = [
    Listing(
        "/api/campaigns",
        lambda env: [a_campaign(env)["id"]],
        params={"filter": "equals(messages.channel,'email')"},
    ),
]


def _variation_body(params: dict[str, str]) -> Any:
    definition = {"name": "B", "details": {"channel": "email", "subject": "B"}}
    return {
        "data": {"type": "campaign-variation", "id": params["id"], "attributes": {"definition": definition}}
    }


CASES += [
    Case("GET", "/api/campaign-variations/{id}", a_message),
    Case(
        "PATCH", "/api/campaign-variations/{id}", a_message, body=_variation_body, unchanged=message_unchanged
    ),
    Case("GET", "/api/campaign-variations/{id}/campaign-message", a_message),
    Case("GET", "/api/campaign-variations/{id}/relationships/campaign-message", a_message),
    Case("GET", "/api/campaign-messages/{id}/campaign-variations", a_message),
    Case("GET", "/api/campaign-messages/{id}/relationships/campaign-variations", a_message),
]


def _audience_body(params: dict[str, str]) -> Any:
    definition = {"included": [params["list"]], "excluded": [params["list"]]}
    return {
        "data": {"type": "campaign-audience", "id": params["id"], "attributes": {"definition": definition}}
    }


def audience_unchanged(env: Env, params: dict[str, str]) -> None:
    campaign_unchanged(env, params)
    audiences = env.as_a("GET", f"/api/campaigns/{params['id']}").json()["data"]["attributes"]["audiences"]
    assert audiences == {"included": [params["list"]], "excluded": []}


CASES += [
    Case("GET", "/api/campaign-audiences/{id}", a_campaign),
    Case(
        "PATCH", "/api/campaign-audiences/{id}", a_campaign, body=_audience_body, unchanged=audience_unchanged
    ),
    Case("GET", "/api/campaign-audiences/{id}/campaign", a_campaign),
    Case("GET", "/api/campaign-audiences/{id}/relationships/campaign", a_campaign),
    Case("GET", "/api/campaign-audiences/{id}/campaign-messages", a_campaign),
    Case("GET", "/api/campaign-audiences/{id}/relationships/campaign-messages", a_campaign),
    Case("GET", "/api/campaigns/{id}/campaign-audiences", a_campaign),
    Case("GET", "/api/campaigns/{id}/relationships/campaign-audiences", a_campaign),
    Case("GET", "/api/campaign-messages/{id}/campaign-audience", a_message),
    Case("GET", "/api/campaign-messages/{id}/relationships/campaign-audience", a_message),
]

LISTINGS += [Listing("/api/campaign-messages", lambda env: [a_message(env)["id"]])]

CASES += [
    Case("GET", "/api/campaign-messages/{id}/image", a_message),
    Case("GET", "/api/campaign-messages/{id}/relationships/image", a_message),
    Case(
        "PATCH",
        "/api/campaign-messages/{id}/relationships/image",
        a_message,
        body=lambda p: {"data": {"type": "image", "id": "123"}},
        unchanged=message_unchanged,
    ),
]


# Send jobs and recipient estimations carry the campaign's id: B naming A's campaign gets a 404.
def a_sent_campaign(env: Env) -> dict[str, str]:
    params = a_campaign(env)
    response = env.as_a(
        "POST", "/api/campaign-send-jobs", json={"data": {"type": "campaign-send-job", "id": params["id"]}}
    )
    assert response.status_code == 202, response.text
    estimation = {"data": {"type": "campaign-recipient-estimation-job", "id": params["id"]}}
    response = env.as_a("POST", "/api/campaign-recipient-estimation-jobs", json=estimation)
    assert response.status_code == 202, response.text
    return params


def an_estimated_campaign(env: Env) -> dict[str, str]:
    params = a_sent_campaign(env)
    drain(env.db)  # the estimation exists for A
    assert env.as_a("GET", f"/api/campaign-recipient-estimations/{params['id']}").status_code == 200
    return params


def still_sending(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/campaigns/{params['id']}")
    assert response.json()["data"]["attributes"]["status"] == "Adding Recipients"


def still_draft(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/campaigns/{params['id']}")
    assert response.json()["data"]["attributes"]["status"] == "Draft"
    assert env.as_a("GET", f"/api/campaign-send-jobs/{params['id']}").status_code == 404


CASES += [
    Case(
        "POST",
        "/api/campaign-send-jobs",
        a_campaign,
        body=lambda p: {"data": {"type": "campaign-send-job", "id": p["id"]}},
        unchanged=still_draft,
    ),
    Case("GET", "/api/campaign-send-jobs/{id}", a_sent_campaign),
    Case(
        "PATCH",
        "/api/campaign-send-jobs/{id}",
        a_sent_campaign,
        body=lambda p: {
            "data": {"type": "campaign-send-job", "id": p["id"], "attributes": {"action": "cancel"}}
        },
        unchanged=still_sending,
    ),
    Case(
        "POST",
        "/api/campaign-recipient-estimation-jobs",
        a_campaign,
        body=lambda p: {"data": {"type": "campaign-recipient-estimation-job", "id": p["id"]}},
    ),
    Case("GET", "/api/campaign-recipient-estimation-jobs/{id}", a_sent_campaign),
    Case("GET", "/api/campaign-recipient-estimations/{id}", an_estimated_campaign),
]


# A/B variations and a variation's image (the omni shape): B naming A's message or variation: 404.
def _create_variation_body(params: dict[str, str]) -> Any:
    return {
        "data": {
            "type": "campaign-variation",
            "attributes": {"definition": {"name": "B", "details": {"channel": "email", "subject": "B"}}},
            "relationships": {
                "campaign-message": {"data": {"type": "campaign-message", "id": params["message"]}}
            },
        }
    }


def a_variation(env: Env) -> dict[str, str]:
    params = a_message(env)
    body = _create_variation_body(params)
    body["data"]["attributes"]["definition"]["name"] = "A's variation"
    response = env.as_a("POST", "/api/campaign-variations", json=body)
    assert response.status_code == 201, response.text
    return {**params, "id": response.json()["data"]["id"]}


def variation_unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/campaign-variations/{params['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"]["definition"]["name"] == "A's variation"
    listed = env.as_a("GET", f"/api/campaign-messages/{params['message']}/relationships/campaign-variations")
    assert len(listed.json()["data"]) == 2


CASES += [
    Case(
        "POST",
        "/api/campaign-variations",
        a_message,
        body=_create_variation_body,
        unchanged=message_unchanged,
    ),
    Case("DELETE", "/api/campaign-variations/{id}", a_variation, unchanged=variation_unchanged),
    Case(
        "PATCH",
        "/api/campaign-variations/{id}",
        a_variation,
        body=_variation_body,
        unchanged=variation_unchanged,
    ),
    Case("GET", "/api/campaign-variations/{id}/image", a_message),
    Case("GET", "/api/campaign-variations/{id}/relationships/image", a_message),
]


# Scheduling in the omni shape names A's campaign or message: a 404 for B, A's campaign a Draft.
def _later() -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()


def _still_draft_message(env: Env, params: dict[str, str]) -> None:
    still_draft(env, {"id": params["campaign"]})


def a_scheduled_message(env: Env) -> dict[str, str]:
    params = a_sent_campaign(env)
    return {**params, "campaign": params["id"], "id": params["message"]}


def _still_sending_message(env: Env, params: dict[str, str]) -> None:
    still_sending(env, {"id": params["campaign"]})


CASES += [
    Case(
        "POST",
        "/api/campaign-schedule",
        a_message,
        body=lambda p: {
            "data": {
                "type": "campaign-schedule",
                "attributes": {
                    "message_schedules": [
                        {"message_id": p["id"], "strategy": "static", "send_time": _later()}
                    ]
                },
                "relationships": {"campaign": {"data": {"type": "campaign", "id": p["campaign"]}}},
            }
        },
        unchanged=_still_draft_message,
    ),
    Case(
        "POST",
        "/api/campaign-message-schedule",
        a_message,
        body=lambda p: {
            "data": {
                "type": "campaign-message-schedule",
                "attributes": {"strategy": "static", "send_time": _later()},
                "relationships": {"campaign-message": {"data": {"type": "campaign-message", "id": p["id"]}}},
            }
        },
        unchanged=_still_draft_message,
    ),
    Case(
        "PATCH",
        "/api/campaign-message-schedule/{id}",
        a_scheduled_message,
        body=lambda p: {
            "data": {"type": "campaign-message-schedule", "id": p["id"], "attributes": {"action": "cancel"}}
        },
        unchanged=_still_sending_message,
    ),
]


# A message created or deleted on its own (omni shape): B naming A's campaign or message: 404.
CASES += [
    Case(
        "POST",
        "/api/campaign-messages",
        a_message,
        body=lambda p: {
            "data": {
                "type": "campaign-message",
                "attributes": {"definition": {"name": "B's"}},
                "relationships": {
                    "campaign": {"data": {"type": "campaign", "id": p["campaign"]}},
                    "campaign-audience": {"data": {"type": "campaign-audience", "id": p["campaign"]}},
                },
            }
        },
        unchanged=message_unchanged,
    ),
    Case("DELETE", "/api/campaign-messages/{id}", a_message, unchanged=message_unchanged),
]
