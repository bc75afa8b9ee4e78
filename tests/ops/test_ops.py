"""Health, metrics and error rendering that no domain owns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ROOT, AccountKeys, _free_port
from tidings.db.session import Database
from tidings.jobs import queue
from tidings.ops.middleware import NulInBody, TidingsMiddleware


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


class _NoMetrics:
    def observe(self, *_args: object) -> None:
        pass


def _holds_nul(chunks: list[bytes]) -> bool:
    """Whether the middleware refuses a body streamed in these chunks as holding a NUL escape."""

    async def read_all(_scope, receive, _send) -> None:  # type: ignore[no-untyped-def]
        while (await receive()).get("more_body"):
            pass

    messages = [
        {"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1}
        for n, chunk in enumerate(chunks)
    ]

    async def receive():  # type: ignore[no-untyped-def]
        return messages.pop(0)

    async def send(_message) -> None:  # type: ignore[no-untyped-def]
        pass

    middleware = TidingsMiddleware(read_all, metrics=_NoMetrics(), max_body_bytes=10**6)  # type: ignore[arg-type]
    scope = {"type": "http", "method": "POST", "path": "/api/events", "headers": []}
    try:
        anyio.run(middleware, scope, receive, send)
    except NulInBody:
        return True
    return False


@pytest.mark.parametrize(
    ("body", "nul"),
    [
        (rb'{"a": "\u0000"}', True),
        (rb'{"a": "C:\\u0000dir"}', False),  # an escaped backslash, then the text u0000
        (rb'{"a": "\\\u0000"}', True),  # an escaped backslash, then a NUL
        (rb'{"a": "\\\\u0000"}', False),
        (rb'{"a": "C:\\u0000dir", "b": "\u0000"}', True),
        (rb'{"\u0000": 1}', True),
        (rb'{"a": "\U0000"}', True),
        (rb'{"a": "u0000 \\ \u0001"}', False),
        (b'"' + b"\\" * 1000 + b'u0000"', False),
        (b'"' + b"\\" * 1000 + b'\\u0000"', True),
    ],
)
def test_nul_escapes_are_found_precisely_in_any_chunking(body: bytes, nul: bool) -> None:
    """An odd run of backslashes before `u0000` is a NUL escape; an even run is escaped backslashes
    and text. The same however the body is cut into chunks, a run of backslashes included."""
    assert _holds_nul([body]) is nul
    for cut in range(len(body) + 1):
        assert _holds_nul([body[:cut], body[cut:]]) is nul, cut
    for size in (1, 2, 3, 7):
        assert _holds_nul([body[i : i + size] for i in range(0, len(body), size)]) is nul, size


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
