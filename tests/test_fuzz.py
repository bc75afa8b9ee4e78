"""Schemathesis against the app's own OpenAPI document: no input may produce a 5xx.

Every operation the app documents is fuzzed (query parameters, headers, path ids and
bodies generated from the schema), with a valid key and revision most of the time so the
requests reach the handlers.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REVISION, make_account


def _operations(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_no_input_gives_a_server_error(app, db) -> None:
    account = make_account(db, name="Fuzz")
    operations = _operations(app)
    assert operations, "the app documents no operation"
    for operation in operations:

        @given(case=operation.as_strategy(), valid_headers=st.integers(0, 9))
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case, valid_headers: int) -> None:
            headers = dict(case.headers or {})
            if valid_headers:  # nine times in ten: authenticated, so the handler runs
                headers["Authorization"] = f"Klaviyo-API-Key {account.private_key}"
                headers["revision"] = REVISION
            response = case.call(headers=headers)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
            )

        try:
            fuzz()
        except AssertionError as error:
            pytest.fail(f"{operation.label}: {error}")
