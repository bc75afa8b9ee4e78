"""bulk_import_profiles and its job resources, through the official SDK."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from openapi_client.exceptions import BadRequestException, NotFoundException
from sqlalchemy import select, update

from tidings.jobs.tables import Job
from tidings.jobs.worker import Worker, drain
from tidings.profile_imports import service
from tidings.profile_imports.tables import ProfileImportItem

UNKNOWN = "01ZZZZZZZZZZZZZZZZZZZZZZZZ"


def _email(tag: str = "imp") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


def _body(profiles: list[dict[str, Any]], list_ids: tuple[str, ...] = ()) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "profile-bulk-import-job",
        "attributes": {"profiles": {"data": [{"type": "profile", **p} for p in profiles]}},
    }
    if list_ids:
        data["relationships"] = {"lists": {"data": [{"type": "list", "id": i} for i in list_ids]}}
    return {"data": data}


def _profile(sdk, **attributes: Any):  # type: ignore[no-untyped-def]
    return sdk.Profiles.create_profile({"data": {"type": "profile", "attributes": attributes}}).data


def _all_errors(sdk, job_id: str) -> list[Any]:  # type: ignore[no-untyped-def]
    errors, cursor = [], None
    while True:
        page = sdk.Profiles.get_errors_for_bulk_import_profiles_job(job_id, page_size=2, page_cursor=cursor)
        errors += page.data
        if not page.links.next:
            return errors
        cursor = page.links.next


def test_import_upserts_applies_the_good_profiles_and_reports_each_bad_one(sdk, db) -> None:
    existing = _profile(
        sdk, email=_email("old"), first_name="Old", last_name="Keep", properties={"a": 1, "tier": "gold"}
    )
    owner_of_email = _profile(sdk, email=_email("p"))
    owner_of_external = _profile(sdk, external_id=f"ext-{uuid.uuid4().hex[:8]}")
    new_email = _email("NEW").upper()
    profiles = [
        {
            "attributes": {
                "email": new_email,
                "first_name": "Ada",
                "location": {"city": "Boston", "zip": "02110"},
                "properties": {"plan": "pro", "visits": 3},
            }
        },
        # null never clears in a bulk import; properties are merged key by key
        {
            "attributes": {
                "email": existing.attributes.email,
                "first_name": "New",
                "last_name": None,
                "properties": {"b": 2, "tier": None},
            }
        },
        {"attributes": {"email": "not-an-email", "first_name": "X"}},
        {"attributes": {"phone_number": "+1 555", "first_name": "Y"}},
        {"attributes": {"first_name": "Nobody"}},
        {"id": UNKNOWN, "attributes": {"first_name": "Ghost"}},
        {"attributes": {"external_id": "ext-only-" + uuid.uuid4().hex[:6], "title": "CTO"}},
        {
            "attributes": {
                "email": owner_of_email.attributes.email,
                "external_id": owner_of_external.attributes.external_id,
            }
        },
        {"id": existing.id, "attributes": {"organization": "Acme"}},
    ]
    created = sdk.Profiles.bulk_import_profiles(_body(profiles))
    job = created.data
    assert job.type == "profile-bulk-import-job"
    assert job.attributes.status == "queued" and job.attributes.total_count == 9
    assert job.attributes.completed_count == 0 and job.attributes.completed_at is None

    assert drain(db) >= 1
    done = sdk.Profiles.get_bulk_import_profiles_job(job.id).data
    assert done.attributes.status == "complete"
    assert (done.attributes.completed_count, done.attributes.failed_count) == (4, 5)
    assert done.attributes.started_at and done.attributes.completed_at
    assert done.attributes.expires_at > done.attributes.completed_at

    errors = _all_errors(sdk, job.id)
    pointers = [e.attributes.source.pointer for e in errors]
    base = "/data/attributes/profiles/data"
    assert pointers == [
        f"{base}/2/attributes/email",
        f"{base}/3/attributes/phone_number",
        f"{base}/4/attributes",
        f"{base}/5/id",
        f"{base}/7/attributes/email",  # external_id names the profile; its email is another's
    ]
    assert [e.attributes.code for e in errors] == [
        "invalid",
        "invalid",
        "invalid",
        "not_found",
        "duplicate_profile",
    ]
    assert errors[0].type == "import-error" and errors[0].attributes.original_payload == {
        "type": "profile",
        "attributes": {"email": "not-an-email", "first_name": "X"},
    }
    assert "Invalid email" in errors[0].attributes.detail
    assert owner_of_email.id in errors[4].attributes.detail

    [ada] = sdk.Profiles.get_profiles(filter=f'equals(email,"{new_email.lower()}")').data
    assert ada.attributes.first_name == "Ada" and ada.attributes.location.city == "Boston"
    assert ada.attributes.location.zip == "02110" and ada.attributes.properties == {
        "plan": "pro",
        "visits": 3,
    }
    updated = sdk.Profiles.get_profile(existing.id).data.attributes
    assert (updated.first_name, updated.last_name, updated.organization) == ("New", "Keep", "Acme")
    assert updated.properties == {"a": 1, "tier": "gold", "b": 2}

    touched = {p.id for p in sdk.Profiles.get_profiles_for_bulk_import_profiles_job(job.id).data}
    assert len(touched) == 3 and {ada.id, existing.id} <= touched
    ids = sdk.Profiles.get_profile_ids_for_bulk_import_profiles_job(job.id, page_size=2)
    assert len(ids.data) == 2 and ids.links.next
    rest = sdk.Profiles.get_profile_ids_for_bulk_import_profiles_job(job.id, page_cursor=ids.links.next)
    assert {p.id for p in ids.data + rest.data} == touched


def test_lists_relationship_joins_the_list_without_consent(sdk, db) -> None:
    group = sdk.Lists.create_list(
        {"data": {"type": "list", "attributes": {"name": "Imported", "opt_in_process": "single_opt_in"}}}
    ).data
    member = _profile(sdk, email=_email("m"))
    body = _body(
        [{"attributes": {"email": member.attributes.email}}, {"attributes": {"email": _email("n")}}],
        (group.id,),
    )
    job = sdk.Profiles.bulk_import_profiles(body).data
    assert [ref.id for ref in job.relationships.lists.data] == [group.id]

    fetched = sdk.Profiles.get_bulk_import_profiles_job(job.id, include=["lists"])
    assert [item.id for item in fetched.included] == [group.id]
    assert fetched.included[0].attributes.name == "Imported"
    assert [x.id for x in sdk.Profiles.get_list_for_bulk_import_profiles_job(job.id).data] == [group.id]
    assert [x.id for x in sdk.Profiles.get_list_ids_for_bulk_import_profiles_job(job.id).data] == [group.id]

    drain(db)
    members = {p.id: p for p in sdk.Lists.get_profiles_for_list(group.id).data}
    assert member.id in members and len(members) == 2
    for profile_id in members:
        marketing = sdk.Profiles.get_profile(
            profile_id, additional_fields_profile=["subscriptions"]
        ).data.attributes.subscriptions.email.marketing
        assert marketing.consent == "NEVER_SUBSCRIBED"
    joins = sdk.Events.get_events(filter=f'equals(profile_id,"{member.id}")').data
    assert len(joins) == 1  # "Added to List", as every list join

    again = sdk.Profiles.bulk_import_profiles(body).data
    drain(db)
    assert sdk.Profiles.get_bulk_import_profiles_job(again.id).data.attributes.completed_count == 2
    assert len(sdk.Events.get_events(filter=f'equals(profile_id,"{member.id}")').data) == 1


def test_listing_filters_sorts_and_pages(sdk, db) -> None:
    done = [
        sdk.Profiles.bulk_import_profiles(_body([{"attributes": {"email": _email()}}])).data.id
        for _ in range(3)
    ]
    drain(db)
    waiting = sdk.Profiles.bulk_import_profiles(_body([{"attributes": {"email": _email()}}])).data.id

    queued = sdk.Profiles.get_bulk_import_profiles_jobs(filter="equals(status,'queued')").data
    assert [j.id for j in queued] == [waiting]
    complete = sdk.Profiles.get_bulk_import_profiles_jobs(filter="any(status,['complete','processing'])").data
    assert sorted(j.id for j in complete) == sorted(done)
    newest_first = sdk.Profiles.get_bulk_import_profiles_jobs(sort="-created_at").data
    assert [j.id for j in newest_first] == [waiting, *reversed(done)]
    page = sdk.Profiles.get_bulk_import_profiles_jobs(sort="created_at", page_size=2)
    assert [j.id for j in page.data] == done[:2]
    following = sdk.Profiles.get_bulk_import_profiles_jobs(page_cursor=page.links.next)
    assert [j.id for j in following.data] == [done[2], waiting]
    sparse = sdk.Profiles.get_bulk_import_profiles_jobs(fields_profile_bulk_import_job=["status"])
    assert set(sparse["data"][0]["attributes"]) == {"status"}


def test_bad_requests(sdk, http, account) -> None:
    with pytest.raises(BadRequestException):
        sdk.Profiles.bulk_import_profiles(_body([]))
    with pytest.raises(NotFoundException) as missing:
        sdk.Profiles.bulk_import_profiles(_body([{"attributes": {"email": _email()}}], ("NoList",)))
    assert "NoList" in missing.value.body
    for call in (
        sdk.Profiles.get_bulk_import_profiles_job,
        sdk.Profiles.get_errors_for_bulk_import_profiles_job,
        sdk.Profiles.get_list_for_bulk_import_profiles_job,
        sdk.Profiles.get_list_ids_for_bulk_import_profiles_job,
        sdk.Profiles.get_profiles_for_bulk_import_profiles_job,
        sdk.Profiles.get_profile_ids_for_bulk_import_profiles_job,
    ):
        with pytest.raises(NotFoundException):
            call(UNKNOWN)
    with pytest.raises(BadRequestException):
        sdk.Profiles.get_bulk_import_profiles_jobs(filter="equals(total_count,1)")
    with pytest.raises(BadRequestException):
        sdk.Profiles.get_bulk_import_profiles_jobs(sort="-total_count")

    headers = {**account.headers(), "Content-Type": "application/vnd.api+json"}

    def post(body: dict[str, Any]) -> Any:
        return http.post("/api/profile-bulk-import-jobs", json=body, headers=headers)

    wrong = post(
        _body([{"attributes": {"email": _email(), "first_name": 5}}, {"attributes": {"nickname": "x"}}])
    )
    assert wrong.status_code == 400
    assert [e["source"]["pointer"] for e in wrong.json()["errors"]] == [
        "/data/attributes/profiles/data/0/attributes/first_name",
        "/data/attributes/profiles/data/1/attributes/nickname",
    ]
    kind = post({"data": {"type": "profile-bulk-import", "attributes": {"profiles": {"data": []}}}})
    assert kind.status_code == 400 and kind.json()["errors"][0]["source"]["pointer"] == "/data/type"
    too_many = post(_body([{"attributes": {"email": f"x{n}@example.com"}} for n in range(10_001)]))
    assert too_many.status_code == 400 and "10,000" in too_many.json()["errors"][0]["detail"]


def test_a_job_applies_chunk_by_chunk_and_a_failed_run_changes_nothing(sdk, db, account, monkeypatch) -> None:
    monkeypatch.setattr(service, "CHUNK", 2)
    drain(db)  # other tests' jobs
    emails = [_email("chunk") for _ in range(5)]
    job_id = sdk.Profiles.bulk_import_profiles(_body([{"attributes": {"email": e}} for e in emails])).data.id
    worker = Worker(db)
    assert worker.run_once() == 1
    first = sdk.Profiles.get_bulk_import_profiles_job(job_id).data.attributes
    assert (first.status, first.completed_count) == ("processing", 2)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    with monkeypatch.context() as patched:
        patched.setattr(service, "apply_profiles", broken)
        assert worker.run_once() == 1  # fails; retried later with backoff
    after_failure = sdk.Profiles.get_bulk_import_profiles_job(job_id).data.attributes
    assert after_failure.completed_count == 2
    with db.read() as session:
        pending = session.execute(
            select(ProfileImportItem.position).where(ProfileImportItem.job_id == job_id)
        ).scalars()
        assert sorted(pending) == [2, 3, 4]
    with db.write() as session:  # make the retry due now
        session.execute(update(Job).where(Job.account_id == account.id).values(run_at=Job.created))
    drain(db)
    final = sdk.Profiles.get_bulk_import_profiles_job(job_id).data.attributes
    assert (final.status, final.completed_count, final.failed_count, final.total_count) == (
        "complete",
        5,
        0,
        5,
    )
    assert len(sdk.Profiles.get_profiles_for_bulk_import_profiles_job(job_id).data) == 5


def test_merges_carry_the_job_relationship(sdk, db) -> None:
    email = _email("merge")
    job_id = sdk.Profiles.bulk_import_profiles(_body([{"attributes": {"email": email}}])).data.id
    drain(db)
    [imported] = sdk.Profiles.get_profile_ids_for_bulk_import_profiles_job(job_id).data
    destination = _profile(sdk, email=_email("dest"))
    merge = {
        "data": {
            "type": "profile-merge",
            "id": destination.id,
            "relationships": {"profiles": {"data": [{"type": "profile", "id": imported.id}]}},
        }
    }
    sdk.Profiles.merge_profiles(merge)
    assert [p.id for p in sdk.Profiles.get_profile_ids_for_bulk_import_profiles_job(job_id).data] == [
        destination.id
    ]


def test_another_accounts_profile_id_is_an_import_error(sdk, db, client, other_account) -> None:
    theirs = client.post(
        "/api/profiles",
        json={"data": {"type": "profile", "attributes": {"email": _email("theirs"), "first_name": "B"}}},
        headers=other_account.headers(),
    ).json()["data"]
    job = sdk.Profiles.bulk_import_profiles(
        _body([{"id": theirs["id"], "attributes": {"first_name": "A"}}])
    ).data
    drain(db)
    [error] = sdk.Profiles.get_errors_for_bulk_import_profiles_job(job.id).data
    assert error.attributes.code == "not_found"
    kept = client.get(f"/api/profiles/{theirs['id']}", headers=other_account.headers()).json()["data"]
    assert kept["attributes"]["first_name"] == "B"


def test_profile_limits_are_import_errors(sdk, db) -> None:
    big = {"attributes": {"email": _email("big"), "properties": {"notes": "x" * 120_000}}}
    many = {"attributes": {"email": _email("many"), "properties": {f"p{n}": n for n in range(401)}}}
    fine = {"attributes": {"email": _email("fine"), "properties": {"p": 1}}}
    job = sdk.Profiles.bulk_import_profiles(_body([big, many, fine])).data
    drain(db)
    errors = sdk.Profiles.get_errors_for_bulk_import_profiles_job(job.id).data
    assert [(e.attributes.source.pointer, e.attributes.code) for e in errors] == [
        ("/data/attributes/profiles/data/0", "invalid"),
        ("/data/attributes/profiles/data/1/attributes/properties", "invalid"),
    ]
    assert "100 KB" in errors[0].attributes.detail and "400" in errors[1].attributes.detail
    done = sdk.Profiles.get_bulk_import_profiles_job(job.id).data.attributes
    assert (done.completed_count, done.failed_count) == (1, 2)
