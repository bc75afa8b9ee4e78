"""Helpers for the campaign tests: lists, segments and templates to point campaigns at."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import AccountKeys

STABLE = "2026-07-15"
OMNI = "2026-10-15"


class Shop:
    """One account's HTTP client, speaking the stable revision unless told otherwise."""

    def __init__(self, client: TestClient, keys: AccountKeys) -> None:
        self.client = client
        self.keys = keys

    def request(self, method: str, url: str, *, revision: str = STABLE, **kwargs: Any) -> Any:
        return self.client.request(method, url, headers=self.keys.headers(revision), **kwargs)

    def make_list(self, name: str = "Newsletter") -> str:
        response = self.request(
            "POST", "/api/lists", json={"data": {"type": "list", "attributes": {"name": name}}}
        )
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["id"])

    def make_segment(self, name: str = "Everyone with an email") -> str:
        definition = {
            "condition_groups": [
                {
                    "conditions": [
                        {
                            "type": "profile-property",
                            "property": "email",
                            "filter": {"type": "existence", "operator": "is-set"},
                        }
                    ]
                }
            ]
        }
        body = {"data": {"type": "segment", "attributes": {"name": name, "definition": definition}}}
        response = self.request("POST", "/api/segments", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["id"])

    def make_template(self, html: str = "<p>Hello {{ first_name }}</p>", name: str = "Welcome") -> str:
        body = {
            "data": {"type": "template", "attributes": {"name": name, "editor_type": "CODE", "html": html}}
        }
        response = self.request("POST", "/api/templates", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["id"])

    def create(self, attributes: dict[str, Any], definition: dict[str, Any] | None = None) -> Any:
        message = {"type": "campaign-message", "attributes": {"definition": definition or EMAIL}}
        body = {
            "data": {
                "type": "campaign",
                "attributes": {**attributes, "campaign-messages": {"data": [message]}},
            }
        }
        return self.request("POST", "/api/campaigns", json=body)


EMAIL = {
    "channel": "email",
    "label": "Launch",
    "content": {
        "subject": "Our launch",
        "preview_text": "It is here",
        "from_email": "news@shop.example",
        "from_label": "The Shop",
        "reply_to_email": "help@shop.example",
    },
}


@pytest.fixture
def shop(client: TestClient, account: AccountKeys) -> Shop:
    return Shop(client, account)


@pytest.fixture
def other_shop(client: TestClient, other_account: AccountKeys) -> Shop:
    return Shop(client, other_account)
