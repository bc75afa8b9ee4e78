"""Request bodies: both JSON media types, and every kind of bad body answered as JSON:API 4xx."""

from __future__ import annotations

from typing import Literal

import pytest
from fastapi import APIRouter, Body
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DataError

from tests.conftest import AccountKeys
from tidings.app import create_app
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse


class Attributes(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    count: int | None = None


class Data(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["list"]
    attributes: Attributes


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: Data


router = APIRouter()


@router.post("/api/probe-bodies")
def probe(document: Document = Body(...), ctx: ApiContext = api("create_list")) -> JSONAPIResponse:
    return JSONAPIResponse({"received": document.model_dump()}, status_code=201)


@pytest.fixture(scope="module")
def probe_client(settings, db):
    app = create_app(settings, db=db, workers=0)
    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


GOOD = {"data": {"type": "list", "attributes": {"name": "x"}}}


@pytest.mark.parametrize("media_type", ["application/vnd.api+json", "application/json"])
def test_both_media_types_are_parsed(probe_client: TestClient, account: AccountKeys, media_type: str) -> None:
    import json

    response = probe_client.post(
        "/api/probe-bodies",
        content=json.dumps(GOOD),
        headers={**account.headers(), "content-type": media_type},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("content", "pointer"),
    [
        (b"{not json", "/"),
        (b"", "/"),
        (b'{"data": {"type": "profile", "attributes": {"name": "x"}}}', "/data/type"),
        (
            b'{"data": {"type": "list", "attributes": {"name": "x", "colour": "red"}}}',
            "/data/attributes/colour",
        ),
        (
            b'{"data": {"type": "list", "attributes": {"name": "x", "count": "many"}}}',
            "/data/attributes/count",
        ),
        (b'{"data": {"type": "list", "attributes": {}}}', "/data/attributes/name"),
        (b"[1, 2]", "/"),
    ],
)
def test_bad_bodies_are_400_with_a_pointer(
    probe_client: TestClient, account: AccountKeys, content: bytes, pointer: str
) -> None:
    response = probe_client.post(
        "/api/probe-bodies",
        content=content,
        headers={**account.headers(), "content-type": "application/vnd.api+json"},
    )
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert all(e["code"] == "invalid" for e in errors)
    assert pointer in [e["source"].get("pointer") for e in errors]


def test_every_bad_field_is_reported_not_just_the_first(
    probe_client: TestClient, account: AccountKeys
) -> None:
    body = {"data": {"type": "list", "attributes": {"count": "x", "extra": 1}}}
    response = probe_client.post("/api/probe-bodies", json=body, headers=account.headers())
    pointers = {e["source"]["pointer"] for e in response.json()["errors"]}
    assert pointers == {"/data/attributes/name", "/data/attributes/count", "/data/attributes/extra"}


@pytest.mark.parametrize(
    ("content", "pointer"),
    [
        (b'{"data": {"type": "list", "attributes": {"name": "a\\ud800b"}}}', "/data/attributes/name"),
        (b'{"data": {"type": "list", "attributes": {"name": "\\uDFFF"}}}', "/data/attributes/name"),
        # a raw surrogate in the UTF-8 bytes: Python's JSON parser decodes it (surrogatepass)
        (b'{"data": {"type": "list", "attributes": {"name": "\xed\xa0\x80"}}}', "/data/attributes/name"),
        # in a key, and in keys nothing declares (echoed in the errors)
        (
            b'{"data": {"type": "list", "attributes": {"name": "x", "\\ud800": 1}}}',
            "/data/attributes/\\ud800",
        ),
        (
            b'{"data": {"type": "list", "attributes": {"name": "x"}}, "x": '
            + b"[" * 300
            + b'"\\ud800"'
            + b"]" * 300
            + b"}",
            "/x" + "/0" * 300,
        ),
    ],
)
def test_a_lone_surrogate_anywhere_is_400_with_its_pointer(
    probe_client: TestClient, account: AccountKeys, content: bytes, pointer: str
) -> None:
    response = probe_client.post(
        "/api/probe-bodies",
        content=content,
        headers={**account.headers(), "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["source"] == {"pointer": pointer}
    assert "surrogate" in error["detail"]


def test_a_paired_surrogate_is_text(probe_client: TestClient, account: AccountKeys) -> None:
    content = '{"data": {"type": "list", "attributes": {"name": "\\ud83d\\ude00 é"}}}'.encode()
    response = probe_client.post(
        "/api/probe-bodies",
        content=content,
        headers={**account.headers(), "content-type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["received"]["data"]["attributes"]["name"] == "\U0001f600 é"


@router.post("/api/probe-data-error")
def probe_data_error(ctx: ApiContext = api("create_list")) -> JSONAPIResponse:
    raise DataError(
        "INSERT INTO lists", {}, Exception('value too long for type character varying(6) in "lists"')
    )


def test_a_value_the_database_refuses_is_400_without_its_words(
    probe_client: TestClient, account: AccountKeys
) -> None:
    response = probe_client.post("/api/probe-data-error", headers=account.headers())
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["detail"] == "A value in the request cannot be stored."
    assert "varying" not in response.text and "lists" not in response.text
