"""Isolation cases for the accounts routes."""

from __future__ import annotations

from tests.isolation import Case, Listing

CASES = [Case("GET", "/api/accounts/{id}", lambda env: {"id": env.a.id})]
LISTINGS = [Listing("/api/accounts", lambda env: [env.a.id])]
