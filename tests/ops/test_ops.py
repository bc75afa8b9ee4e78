"""Health, metrics and error rendering that no domain owns."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import AccountKeys
from tidings.jobs import queue


def test_healthz_reports_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_metrics_count_requests_by_route_and_show_the_job_queue(
    client: TestClient, db, account: AccountKeys
) -> None:
    client.get(f"/api/accounts/{account.id}", headers=account.headers())
    with db.write() as session:
        queue.enqueue(session, "tests.metrics_probe", account_id=account.id)
    text = client.get("/metrics").text
    assert 'tidings_http_requests_total{method="GET",route="/api/accounts/{id}",status="200"}' in text
    assert "tidings_http_request_duration_seconds_bucket" in text
    assert 'tidings_jobs{name="tests.metrics_probe",status="queued"}' in text
    assert 'tidings_jobs_oldest_age_seconds{name="tests.metrics_probe",status="queued"}' in text
    with db.write() as session:
        session.execute(queue.Job.__table__.delete().where(queue.Job.name == "tests.metrics_probe"))


def test_unknown_route_is_a_jsonapi_404(client: TestClient) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_wrong_method_is_a_jsonapi_405(client: TestClient, account: AccountKeys) -> None:
    response = client.delete("/api/accounts", headers=account.headers())
    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "method_not_allowed"


def test_oversized_body_is_413_before_anything_else(client: TestClient, account: AccountKeys) -> None:
    response = client.post(
        "/api/accounts",
        content=b"x" * (5 * 1024 * 1024 + 1),
        headers={**account.headers(), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "request_too_large"


def test_nul_characters_are_refused_not_a_server_error(client, account: AccountKeys) -> None:
    body = '{"data": {"type": "profile", "attributes": {"email": "a\\u0000@example.com"}}}'
    response = client.post(
        "/api/profiles",
        content=body,
        headers={**account.headers(), "content-type": "application/vnd.api+json"},
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["errors"][0]["detail"]
    assert client.get("/api/profiles/abc%00def", headers=account.headers()).status_code in (400, 404)
