"""Isolation cases for the coupon routes: a key of account B never reads or changes A's coupons,
codes or jobs (ids are the shop's own, so B may even use the same coupon id for its own coupon)."""

from __future__ import annotations

import itertools
from typing import Any

from tests.isolation import Case, Env, Listing
from tidings.jobs.worker import drain

_serial = itertools.count()


def a_coupon(env: Env) -> dict[str, str]:
    coupon_id = f"ISO{next(_serial)}"
    body = {"data": {"type": "coupon", "attributes": {"external_id": coupon_id, "description": "A's"}}}
    response = env.as_a("POST", "/api/coupons", json=body)
    assert response.status_code == 201, response.text
    return {"id": coupon_id}


def _code_body(coupon_id: str, code: str) -> dict[str, Any]:
    return {
        "data": {
            "type": "coupon-code",
            "attributes": {"unique_code": code},
            "relationships": {"coupon": {"data": {"type": "coupon", "id": coupon_id}}},
        }
    }


def a_code(env: Env, coupon_id: str | None = None) -> dict[str, str]:
    coupon_id = coupon_id or a_coupon(env)["id"]
    response = env.as_a("POST", "/api/coupon-codes", json=_code_body(coupon_id, "SECRET"))
    assert response.status_code == 200, response.text
    return {"id": response.json()["data"]["id"], "coupon": coupon_id}


def a_job(env: Env) -> dict[str, str]:
    coupon_id = a_coupon(env)["id"]
    entries = [_code_body(coupon_id, "J1")["data"]]
    body = {
        "data": {"type": "coupon-code-bulk-create-job", "attributes": {"coupon-codes": {"data": entries}}}
    }
    response = env.as_a("POST", "/api/coupon-code-bulk-create-jobs", json=body)
    assert response.status_code == 202, response.text
    drain(env.db)
    return {"job_id": response.json()["data"]["id"]}


def _listed_coupon(env: Env) -> str:
    body = {"data": {"type": "coupon", "attributes": {"external_id": "LISTED"}}}
    assert env.as_a("POST", "/api/coupons", json=body).status_code == 201
    return "LISTED"


def coupon_unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/coupons/{params['id']}")
    assert response.status_code == 200 and response.json()["data"]["attributes"]["description"] == "A's"


def code_unchanged(env: Env, params: dict[str, str]) -> None:
    response = env.as_a("GET", f"/api/coupon-codes/{params['id']}")
    assert response.status_code == 200 and response.json()["data"]["attributes"]["status"] == "UNASSIGNED"


def code_not_added(env: Env, params: dict[str, str]) -> None:
    listed = env.as_a("GET", f"/api/coupons/{params['id']}/coupon-codes").json()["data"]
    assert listed == []


CASES = [
    Case("GET", "/api/coupons/{id}", a_coupon),
    Case(
        "PATCH",
        "/api/coupons/{id}",
        a_coupon,
        body=lambda p: {"data": {"type": "coupon", "id": p["id"], "attributes": {"description": "B"}}},
        unchanged=coupon_unchanged,
    ),
    Case("DELETE", "/api/coupons/{id}", a_coupon, unchanged=coupon_unchanged),
    Case("GET", "/api/coupons/{id}/coupon-codes", a_coupon),
    Case("GET", "/api/coupons/{id}/relationships/coupon-codes", a_coupon),
    Case("GET", "/api/coupon-codes/{id}", a_code),
    Case(
        "PATCH",
        "/api/coupon-codes/{id}",
        a_code,
        body=lambda p: {"data": {"type": "coupon-code", "id": p["id"], "attributes": {"status": "USED"}}},
        unchanged=code_unchanged,
    ),
    Case("DELETE", "/api/coupon-codes/{id}", a_code, unchanged=code_unchanged),
    Case("GET", "/api/coupon-codes/{id}/coupon", a_code),
    Case("GET", "/api/coupon-codes/{id}/relationships/coupon", a_code),
    # A code for A's coupon, sent with B's key: the coupon does not exist for B.
    Case(
        "POST",
        "/api/coupon-codes",
        a_coupon,
        body=lambda p: _code_body(p["id"], "BS"),
        unchanged=code_not_added,
    ),
    Case("GET", "/api/coupon-code-bulk-create-jobs/{job_id}", a_job),
]

LISTINGS = [
    Listing("/api/coupons", lambda env: [a_coupon(env)["id"]]),
    Listing("/api/coupon-code-bulk-create-jobs", lambda env: [a_job(env)["job_id"]]),
    Listing(
        "/api/coupon-codes",
        lambda env: [a_code(env, _listed_coupon(env))["id"]],
        params={"filter": "equals(coupon.id,'LISTED')"},
    ),
]

EXEMPT = {
    ("POST", "/api/coupons"): "creates a coupon in the caller's own account",
    ("POST", "/api/coupon-code-bulk-create-jobs"): "the job creates codes only for the caller's coupons: "
    "another account's coupon id fails that entry with not_found (tests/coupons/test_coupons_api.py)",
}
