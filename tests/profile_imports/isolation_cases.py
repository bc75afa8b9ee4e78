"""Isolation cases for the bulk import routes: a key of account B never reads A's import jobs,
and never adds profiles to A's lists."""

from __future__ import annotations

import uuid
from typing import Any

from tests.isolation import Case, Env, Listing
from tidings.jobs.worker import drain


def an_import_job(env: Env) -> dict[str, str]:
    created = env.as_a(
        "POST", "/api/lists", json={"data": {"type": "list", "attributes": {"name": "A's import list"}}}
    )
    assert created.status_code == 201, created.text
    list_id = created.json()["data"]["id"]
    body = _import([{"email": f"iso-{uuid.uuid4().hex[:8]}@example.com"}, {"email": "bad"}], list_id)
    response = env.as_a("POST", "/api/profile-bulk-import-jobs", json=body)
    assert response.status_code == 202, response.text
    drain(env.db)
    job_id = response.json()["data"]["id"]
    return {"id": job_id, "job_id": job_id, "list": list_id}


def _import(attributes: list[dict[str, Any]], list_id: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "profile-bulk-import-job",
        "attributes": {"profiles": {"data": [{"type": "profile", "attributes": a} for a in attributes]}},
    }
    if list_id:
        data["relationships"] = {"lists": {"data": [{"type": "list", "id": list_id}]}}
    return {"data": data}


def list_unchanged(env: Env, params: dict[str, str]) -> None:
    members = env.as_a("GET", f"/api/lists/{params['list']}/profiles").json()["data"]
    assert len(members) == 1  # only A's own import joined it


CASES = [
    Case("GET", "/api/profile-bulk-import-jobs/{job_id}", an_import_job),
    Case("GET", "/api/profile-bulk-import-jobs/{id}/import-errors", an_import_job),
    Case("GET", "/api/profile-bulk-import-jobs/{id}/lists", an_import_job),
    Case("GET", "/api/profile-bulk-import-jobs/{id}/relationships/lists", an_import_job),
    Case("GET", "/api/profile-bulk-import-jobs/{id}/profiles", an_import_job),
    Case("GET", "/api/profile-bulk-import-jobs/{id}/relationships/profiles", an_import_job),
    # B importing into A's list: the list is not found in B's account, nothing is accepted.
    Case(
        "POST",
        "/api/profile-bulk-import-jobs",
        an_import_job,
        body=lambda p: _import([{"email": "b-import@example.com"}], p["list"]),
        unchanged=list_unchanged,
    ),
]
LISTINGS = [Listing("/api/profile-bulk-import-jobs", lambda env: [an_import_job(env)["id"]])]
