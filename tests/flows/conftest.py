"""Fixtures for the flow tests: an account's HTTP client (the campaigns' `Shop`), and another's."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.campaigns.conftest import Shop
from tests.conftest import AccountKeys


@pytest.fixture
def shop(client: TestClient, account: AccountKeys) -> Shop:
    return Shop(client, account)


@pytest.fixture
def other_shop(client: TestClient, other_account: AccountKeys) -> Shop:
    return Shop(client, other_account)
