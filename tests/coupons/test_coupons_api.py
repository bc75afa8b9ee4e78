"""Coupon endpoints through the official SDK: coupons, codes, bulk jobs, and their errors."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from openapi_client.exceptions import ApiException, BadRequestException, NotFoundException

from tidings.jobs.worker import drain


def _coupon(sdk, external_id: str = "WELCOME10", description: str | None = "10% off"):  # type: ignore[no-untyped-def]
    body = {
        "data": {"type": "coupon", "attributes": {"external_id": external_id, "description": description}}
    }
    return sdk.Coupons.create_coupon(body).data


def _code_body(coupon_id: str, code: str, expires_at: str | None = None) -> dict:  # type: ignore[type-arg]
    attributes: dict = {"unique_code": code}  # type: ignore[type-arg]
    if expires_at is not None:
        attributes["expires_at"] = expires_at
    return {
        "type": "coupon-code",
        "attributes": attributes,
        "relationships": {"coupon": {"data": {"type": "coupon", "id": coupon_id}}},
    }


def test_coupon_lifecycle(sdk) -> None:  # type: ignore[no-untyped-def]
    created = _coupon(sdk)
    assert created.id == "WELCOME10"
    assert created.attributes.external_id == "WELCOME10"
    assert created.attributes.description == "10% off"
    assert [c.id for c in sdk.Coupons.get_coupons().data] == ["WELCOME10"]
    patch = {"data": {"type": "coupon", "id": "WELCOME10", "attributes": {"description": "Now 15%"}}}
    assert sdk.Coupons.update_coupon("WELCOME10", patch).data.attributes.description == "Now 15%"
    assert sdk.Coupons.get_coupon("WELCOME10").data.attributes.description == "Now 15%"
    with pytest.raises(ApiException) as duplicate:
        _coupon(sdk)
    assert duplicate.value.status == 409
    sdk.Coupons.delete_coupon("WELCOME10")
    with pytest.raises(NotFoundException):
        sdk.Coupons.get_coupon("WELCOME10")


def test_codes_and_their_coupon(sdk) -> None:  # type: ignore[no-untyped-def]
    _coupon(sdk, "SUMMER")
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(microsecond=0)
    code = sdk.Coupons.create_coupon_code({"data": _code_body("SUMMER", "ABC123", later.isoformat())}).data
    assert code.id == "SUMMER-ABC123"
    assert code.attributes.unique_code == "ABC123"
    assert code.attributes.status == "UNASSIGNED"
    assert code.attributes.expires_at == later
    default = sdk.Coupons.create_coupon_code({"data": _code_body("SUMMER", "XYZ789")}).data
    year = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
    assert abs((default.attributes.expires_at - year).total_seconds()) < 120  # "automatically set to 1 year"

    listed = sdk.Coupons.get_coupon_codes(filter="equals(coupon.id,'SUMMER')", include=["coupon"])
    assert [c.id for c in listed.data] == ["SUMMER-ABC123", "SUMMER-XYZ789"]
    assert [c.id for c in listed.included] == ["SUMMER"]
    assert [c.id for c in sdk.Coupons.get_codes_for_coupon("SUMMER").data] == [
        "SUMMER-ABC123",
        "SUMMER-XYZ789",
    ]
    assert [c.id for c in sdk.Coupons.get_code_ids_for_coupon("SUMMER").data] == [
        "SUMMER-ABC123",
        "SUMMER-XYZ789",
    ]
    assert sdk.Coupons.get_coupon_for_coupon_code("SUMMER-ABC123").data.id == "SUMMER"
    assert sdk.Coupons.get_coupon_id_for_coupon_code("SUMMER-ABC123").data.id == "SUMMER"
    one = sdk.Coupons.get_coupon_code("SUMMER-ABC123", include=["coupon"])
    assert one.data.relationships.coupon.data.id == "SUMMER"
    assert [c.id for c in one.included] == ["SUMMER"]

    used = {"data": {"type": "coupon-code", "id": "SUMMER-ABC123", "attributes": {"status": "USED"}}}
    assert sdk.Coupons.update_coupon_code("SUMMER-ABC123", used).data.attributes.status == "USED"
    sdk.Coupons.delete_coupon_code("SUMMER-XYZ789")
    with pytest.raises(NotFoundException):
        sdk.Coupons.get_coupon_code("SUMMER-XYZ789")


def test_code_errors(sdk, client, account) -> None:  # type: ignore[no-untyped-def]
    _coupon(sdk, "FALL")
    sdk.Coupons.create_coupon_code({"data": _code_body("FALL", "DUP")})
    with pytest.raises(ApiException) as duplicate:
        sdk.Coupons.create_coupon_code({"data": _code_body("FALL", "DUP")})
    assert duplicate.value.status == 409
    with pytest.raises(NotFoundException) as unknown:
        sdk.Coupons.create_coupon_code({"data": _code_body("NOPE", "X1")})
    assert json.loads(unknown.value.body)["errors"][0]["source"] == {
        "pointer": "/data/relationships/coupon/data/id"
    }
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    with pytest.raises(BadRequestException) as expired:
        sdk.Coupons.create_coupon_code({"data": _code_body("FALL", "OLD", past)})
    assert "/data/attributes/expires_at" in expired.value.body
    unscoped = client.get("/api/coupon-codes", headers=account.headers())  # the SDK requires the filter
    assert unscoped.status_code == 400
    assert unscoped.json()["errors"][0]["source"] == {"parameter": "filter"}
    back = {
        "data": {"type": "coupon-code", "id": "FALL-DUP", "attributes": {"status": "ASSIGNED_TO_PROFILE"}}
    }
    with pytest.raises(BadRequestException):
        sdk.Coupons.update_coupon_code("FALL-DUP", back)


def test_bulk_create_job(sdk, db) -> None:  # type: ignore[no-untyped-def]
    _coupon(sdk, "BULK")
    sdk.Coupons.create_coupon_code({"data": _code_body("BULK", "TAKEN")})
    entries = [_code_body("BULK", f"B{i:03d}") for i in range(5)] + [_code_body("BULK", "TAKEN")]
    body = {
        "data": {"type": "coupon-code-bulk-create-job", "attributes": {"coupon-codes": {"data": entries}}}
    }
    job = sdk.Coupons.bulk_create_coupon_codes(body).data
    assert job.attributes.status == "queued"
    assert job.attributes.total_count == 6
    drain(db)
    done = sdk.Coupons.get_bulk_create_coupon_codes_job(job.id, include=["coupon-codes"])
    assert done.data.attributes.status == "complete"
    assert done.data.attributes.completed_count == 5
    assert done.data.attributes.failed_count == 1
    assert (
        done.data.attributes.errors[0].source.pointer
        == "/data/attributes/coupon-codes/data/5/attributes/unique_code"
    )
    assert sorted(c.id for c in done.included) == [f"BULK-B{i:03d}" for i in range(5)]
    assert [
        j.id for j in sdk.Coupons.get_bulk_create_coupon_code_jobs(filter="equals(status,'complete')").data
    ] == [job.id]


def test_bulk_job_reports_every_bad_entry(client, account) -> None:  # type: ignore[no-untyped-def]
    """Every bad entry with its index (sent over plain HTTP: the SDK checks its own models first)."""
    entries = [
        _code_body("BULK", "OK"),
        {"type": "coupon-code", "attributes": {}},
        _code_body("BULK", "has space"),
    ]
    body = {
        "data": {"type": "coupon-code-bulk-create-job", "attributes": {"coupon-codes": {"data": entries}}}
    }
    bad = client.post("/api/coupon-code-bulk-create-jobs", json=body, headers=account.headers())
    assert bad.status_code == 400
    text = bad.text
    assert "/data/attributes/coupon-codes/data/1/attributes/unique_code" in text
    assert "/data/attributes/coupon-codes/data/1/relationships" in text
    assert "/data/attributes/coupon-codes/data/2/attributes/unique_code" in text
