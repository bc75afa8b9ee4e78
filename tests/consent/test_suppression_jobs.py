"""bulk_suppress_profiles / bulk_unsuppress_profiles and their job resources, through the SDK."""

from __future__ import annotations

import pytest
from openapi_client.exceptions import ApiException, BadRequestException, NotFoundException

from tests.consent.test_subscription_endpoints import FakeLists
from tidings.consent import gateways as consent_lists
from tidings.consent import service
from tidings.consent.policy import SuppressionReason
from tidings.jobs.worker import drain


def _body(
    kind: str, emails: list[str] | None = None, list_id: str | None = None, segment_id: str | None = None
) -> dict:
    data: dict = {"type": kind, "attributes": {}}
    if emails is not None:
        data["attributes"]["profiles"] = {
            "data": [{"type": "profile", "attributes": {"email": e}} for e in emails]
        }
    if list_id:
        data["relationships"] = {"list": {"data": {"type": "list", "id": list_id}}}
    if segment_id:
        data["relationships"] = {"segment": {"data": {"type": "segment", "id": segment_id}}}
    return {"data": data}


def _marketing(sdk, email: str):  # type: ignore[no-untyped-def]
    [profile] = sdk.Profiles.get_profiles(
        filter=f'equals(email,"{email}")', additional_fields_profile=["subscriptions"]
    ).data
    return profile.id, profile.attributes.subscriptions.email.marketing


def test_suppress_then_unsuppress(sdk, db, account) -> None:
    sdk.Profiles.create_profile({"data": {"type": "profile", "attributes": {"email": "sup1@example.com"}}})
    created = sdk.Profiles.bulk_suppress_profiles(
        _body("profile-suppression-bulk-create-job", ["sup1@example.com", "sup2@example.com"])
    )
    assert created.data.attributes.status == "queued" and created.data.attributes.total_count == 2
    drain(db)
    job = sdk.Profiles.get_bulk_suppress_profiles_job(created.data.id).data
    assert job.attributes.status == "complete" and job.attributes.completed_count == 2
    assert [
        j.id for j in sdk.Profiles.get_bulk_suppress_profiles_jobs(filter='equals(status,"complete")').data
    ] == [job.id]
    pid, marketing = _marketing(sdk, "sup2@example.com")  # an unknown email gets a suppressed profile
    assert [s.reason for s in marketing.suppression] == ["USER_SUPPRESSED"]
    assert marketing.can_receive_email_marketing is False

    with db.write() as session:
        service.suppress(session, account.id, pid, SuppressionReason.HARD_BOUNCE)
    again = sdk.Profiles.bulk_suppress_profiles(
        _body("profile-suppression-bulk-create-job", ["sup2@example.com"])
    )
    drain(db)
    assert sdk.Profiles.get_bulk_suppress_profiles_job(again.data.id).data.attributes.skipped_count == 1

    lifted = sdk.Profiles.bulk_unsuppress_profiles(
        _body("profile-suppression-bulk-delete-job", ["sup1@example.com", "sup2@example.com"])
    )
    drain(db)
    assert sdk.Profiles.get_bulk_unsuppress_profiles_job(lifted.data.id).data.attributes.completed_count == 2
    assert [j.id for j in sdk.Profiles.get_bulk_unsuppress_profiles_jobs().data] == [lifted.data.id]
    _pid, marketing = _marketing(sdk, "sup2@example.com")
    assert [s.reason for s in marketing.suppression] == ["HARD_BOUNCE"]  # only USER_SUPPRESSED is lifted
    _pid, marketing = _marketing(sdk, "sup1@example.com")
    assert marketing.suppression == [] and marketing.can_receive_email_marketing is True


def test_suppress_a_list(sdk, db) -> None:
    p = sdk.Profiles.create_profile(
        {"data": {"type": "profile", "attributes": {"email": "member@example.com"}}}
    )
    real = consent_lists.lists()
    consent_lists.set_list_gateway(FakeLists({"L": "single_opt_in"}, {"L": {p.data.id}}))
    try:
        job = sdk.Profiles.bulk_suppress_profiles(_body("profile-suppression-bulk-create-job", list_id="L"))
        drain(db)
    finally:
        consent_lists.set_list_gateway(real)
    assert sdk.Profiles.get_bulk_suppress_profiles_job(job.data.id).data.attributes.completed_count == 1
    _pid, marketing = _marketing(sdk, "member@example.com")
    assert [s.reason for s in marketing.suppression] == ["USER_SUPPRESSED"]


def test_suppress_and_unsuppress_a_segment(sdk, db) -> None:
    for email, colour in [
        ("blue1@example.com", "blue"),
        ("blue2@example.com", "blue"),
        ("red@example.com", "red"),
    ]:
        sdk.Profiles.create_profile(
            {"data": {"type": "profile", "attributes": {"email": email, "properties": {"Colour": colour}}}}
        )
    condition = {
        "type": "profile-property",
        "property": "properties['Colour']",
        "filter": {"type": "string", "operator": "equals", "value": "blue"},
    }
    segment = sdk.Segments.create_segment(
        {
            "data": {
                "type": "segment",
                "attributes": {
                    "name": "Blue",
                    "definition": {"condition_groups": [{"conditions": [condition]}]},
                },
            }
        }
    ).data
    drain(db)
    job = sdk.Profiles.bulk_suppress_profiles(
        _body("profile-suppression-bulk-create-job", segment_id=segment.id)
    ).data
    assert job.relationships.segments.data[0].id == segment.id
    drain(db)
    done = sdk.Profiles.get_bulk_suppress_profiles_job(job.id).data.attributes
    assert (done.status, done.total_count, done.completed_count) == ("complete", 2, 2)
    for email, suppressed in [
        ("blue1@example.com", True),
        ("blue2@example.com", True),
        ("red@example.com", False),
    ]:
        _pid, marketing = _marketing(sdk, email)
        assert bool(marketing.suppression) is suppressed
    lifted = sdk.Profiles.bulk_unsuppress_profiles(
        _body("profile-suppression-bulk-delete-job", segment_id=segment.id)
    ).data
    drain(db)
    assert sdk.Profiles.get_bulk_unsuppress_profiles_job(lifted.id).data.attributes.completed_count == 2
    _pid, marketing = _marketing(sdk, "blue1@example.com")
    assert marketing.suppression == []


def test_bad_suppression_requests(sdk) -> None:
    with pytest.raises(BadRequestException):
        sdk.Profiles.bulk_suppress_profiles(_body("profile-suppression-bulk-create-job", ["not-an-email"]))
    with pytest.raises(BadRequestException):
        sdk.Profiles.bulk_suppress_profiles(_body("profile-suppression-bulk-create-job"))
    with pytest.raises(ApiException) as caught:
        sdk.Profiles.bulk_suppress_profiles(_body("profile-suppression-bulk-create-job", list_id="NOPE"))
    assert caught.value.status == 404
    with pytest.raises(ApiException) as caught:
        sdk.Profiles.bulk_suppress_profiles(_body("profile-suppression-bulk-create-job", segment_id="NOPE"))
    assert caught.value.status == 404
    with pytest.raises(NotFoundException):
        sdk.Profiles.get_bulk_unsuppress_profiles_job("01ZZZZZZZZZZZZZZZZZZZZZZZZ")
