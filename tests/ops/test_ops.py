"""Health, metrics and error rendering that no domain owns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
from fastapi.testclient import TestClient

from tests.conftest import ROOT, AccountKeys, _free_port
from tidings.db.session import Database
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


def test_every_server_process_writes_json_logs(db: Database, database_url: str) -> None:
    """`tidings serve --processes 2` starts each process afresh: each must configure its own logs
    (they were structlog's coloured development text on stdout, and slower to write)."""
    port = _free_port()
    env = {**os.environ, "TIDINGS_DATABASE_URL": database_url, "TIDINGS_WORKERS": "0"}
    command = [sys.executable, "-m", "tidings.cli", "serve", "--port", str(port), "--no-migrate"]
    server = subprocess.Popen(
        [*command, "--processes", "2"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        served = 0
        deadline = time.monotonic() + 60
        while served < 20 and time.monotonic() < deadline:
            try:
                served += httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.1)
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert served == 20
    assert out == b""
    lines = [line for line in err.decode().splitlines() if line.startswith("{")]
    requests = [json.loads(line) for line in lines if '"event": "request"' in line]
    assert len(requests) == 20
    assert {r["path"] for r in requests} == {"/healthz"} and all(r["level"] == "info" for r in requests)
