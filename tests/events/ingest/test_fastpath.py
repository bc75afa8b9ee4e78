"""The lean ingestion path answers exactly as the FastAPI routes it stands in front of."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import AccountKeys
from tests.events.ingest.test_api import MIXED_BULK, bulk_document, bulk_event, bulk_group, event_body
from tidings.app import create_app
from tidings.events.ingest.fastpath import IngestFastPath

BULK = bulk_document(bulk_group("bad", bulk_event(time="1970-01-01T00:00:00Z")))


def _raw(body: dict, text: str) -> bytes:
    """`body` as JSON text, its "X" string replaced by `text` (JSON no encoder writes)."""
    return json.dumps(body).replace('"X"', text).encode()


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.fixture(scope="module")
def framework_client(settings, db):  # type: ignore[no-untyped-def]
    """The same application without the lean path: every request goes through FastAPI."""
    app: FastAPI = create_app(settings, db=db, workers=0)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not IngestFastPath]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _answer(response):  # type: ignore[no-untyped-def]
    body = response.json() if response.content else None
    for error in (body or {}).get("errors", []):
        error.pop("id")
    limits = {k: v for k, v in response.headers.items() if k.lower().startswith("ratelimit")}
    return response.status_code, body, response.headers.get("content-type"), sorted(limits)


@pytest.mark.parametrize(
    ("path", "body", "raw", "headers"),
    [
        ("/api/events", event_body(), None, {}),
        ("/api/events", event_body(email="not-an-email", time="1989-01-01T00:00:00Z"), None, {}),
        ("/api/events", event_body(colour="red", value="lots"), None, {}),
        ("/api/events", {"data": []}, None, {}),
        ("/api/events", None, b"{not json", {}),
        ("/api/events", None, b"", {}),
        ("/api/events", None, b'{"data": "\\u0000"}', {}),
        ("/api/events", None, _raw(event_body(properties={"p": "X"}), '"C:\\\\u0000dir"'), {}),
        ("/api/events", None, _raw(event_body(properties={"p": "X"}), '"a\\ud800"'), {}),
        ("/api/events", None, _raw(event_body(properties={"X": 1}), '"\\udc00"'), {}),
        ("/api/events", None, _raw(event_body(X=1, profile={"first_name": "X"}), '"\\ud800"'), {}),
        ("/api/events", None, _raw(event_body(properties={"p": "X"}), _deep(150)), {}),
        ("/api/events", None, _raw(event_body(properties={"p": "X"}), _deep(5000)), {}),
        ("/api/events", event_body(value="9.99", backfill="yes", time=1710072000000), None, {}),
        ("/api/events", event_body(value=True, backfill=1, time="1710072000"), None, {}),
        ("/api/events", event_body(metric="  "), None, {}),
        ("/api/events", event_body(), None, {"revision": "1999-01-01"}),
        ("/api/events", event_body(), None, {"Authorization": "Klaviyo-API-Key pk_" + "0" * 40}),
        ("/api/events", event_body(), None, {"Authorization": ""}),
        ("/api/event-bulk-create-jobs", BULK, None, {}),
        ("/api/event-bulk-create-jobs", MIXED_BULK, None, {}),
        (
            "/api/event-bulk-create-jobs",
            None,
            _raw(bulk_document(bulk_group("X", bulk_event())), '"\\ud800"'),
            {},
        ),
        ("/client/events", event_body(), None, {"client": "yes"}),
        ("/client/events", event_body(), None, {}),
        ("/client/events?company_id=NOPE00", event_body(), None, {}),
        ("/client/event-bulk-create", {"data": {"type": "x"}}, None, {"client": "yes"}),
        (
            "/client/event-bulk-create",
            {"data": MIXED_BULK["data"]["attributes"]["events-bulk-create"]["data"][0]},
            None,
            {"client": "yes"},
        ),
    ],
)
def test_lean_path_answers_as_the_framework(
    monkeypatch, client, framework_client, account: AccountKeys, path: str, body, raw, headers
) -> None:
    taken: list[str] = []
    take = IngestFastPath._take

    async def spy(self, entry, *args):  # type: ignore[no-untyped-def]
        taken.append(entry.route.path)
        return await take(self, entry, *args)

    monkeypatch.setattr(IngestFastPath, "_take", spy)
    sent = dict(account.headers())
    if headers.pop("client", None):
        path += f"?company_id={account.public_key}"
        sent.pop("Authorization")
    sent.update(headers)
    sent["Content-Type"] = "application/vnd.api+json"
    answers = []
    for each in (client, framework_client):
        if raw is None:
            response = each.post(path, json=body, headers=sent)
        else:
            response = each.post(path, content=raw, headers=sent)
        answers.append(_answer(response))
    assert taken == [path.split("?")[0]]  # the first answer came from the lean path, the second not
    assert answers[0] == answers[1]
    assert answers[0][0] in (202, 400, 401, 403, 404)


def test_lean_path_is_counted_under_its_route(client, account: AccountKeys) -> None:
    assert client.post("/api/events/", json=event_body(), headers=account.headers()).status_code == 202
    metrics = client.get("/metrics").text
    assert 'route="/api/events"' in metrics


def test_a_body_not_declared_json_is_left_to_the_framework(client, account: AccountKeys) -> None:
    headers = {**account.headers(), "Content-Type": "text/plain"}
    response = client.post("/api/events", content=b'{"data": {}}', headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"]
