"""People for the web app's tests: a user with a role in an account, and a browser-like client
(its own cookie jar, Fetch Metadata headers as a same-origin page sends them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import REVISION
from tidings.db.session import Database
from tidings.web import service

PASSWORD = "correct horse battery"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin", "revision": REVISION}


def make_user(db: Database, account_id: str, role: str = "owner", *, email: str | None = None) -> str:
    email = email or f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    with db.write() as session:
        user = service.repository.user_by_email(session, email) or service.create_user(
            session, email, PASSWORD
        )
        service.add_membership(session, account_id, user.id, role)
    return email


@contextmanager
def browser(app: FastAPI) -> Iterator[TestClient]:
    """A client with a cookie jar of its own (the suite's shared client must never hold a session)."""
    client = TestClient(app, raise_server_exceptions=False)
    client.headers.update(SAME_ORIGIN)
    try:
        yield client
    finally:
        client.close()


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> dict:
    response = client.post(
        "/api/x-tidings/app/session",
        json={"data": {"type": "session", "attributes": {"email": email, "password": password}}},
    )
    assert response.status_code == 201, response.text
    return response.json()
