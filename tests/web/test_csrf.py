"""The cross-site check on its own: Fetch Metadata first, then Origin, then JSON only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.jsonapi.errors import PermissionDenied, UnsupportedMediaType
from tidings.web import csrf

UNSAFE = st.sampled_from(["POST", "PUT", "PATCH", "DELETE", "post"])
JSON = {"content-type": "application/vnd.api+json", "host": "tidings.example"}


@given(method=UNSAFE, site=st.text(max_size=20).filter(lambda s: s not in ("same-origin", "none")))
def test_any_other_fetch_site_is_refused(method: str, site: str) -> None:
    with pytest.raises(PermissionDenied):
        csrf.check(method, {**JSON, "sec-fetch-site": site, "origin": "https://tidings.example"})


@given(method=st.sampled_from(["GET", "HEAD", "OPTIONS"]), site=st.text(max_size=20))
def test_safe_methods_always_pass(method: str, site: str) -> None:
    csrf.check(
        method, {"sec-fetch-site": site, "origin": "https://evil.example", "content-type": "text/plain"}
    )


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({"sec-fetch-site": "same-origin"}, None),
        ({"sec-fetch-site": "none"}, None),  # typed by the user, a bookmark
        ({"origin": "https://tidings.example"}, None),  # an older browser, same host
        ({"origin": "https://evil.example"}, PermissionDenied),
        ({"origin": "null"}, PermissionDenied),  # a sandboxed frame, a data: page
        ({}, None),  # not a browser: no cookie would make it dangerous
        ({"sec-fetch-site": "same-origin", "content-type": "text/plain"}, UnsupportedMediaType),
        (
            {"sec-fetch-site": "same-origin", "content-type": "multipart/form-data; boundary=x"},
            UnsupportedMediaType,
        ),
        ({"sec-fetch-site": "same-origin", "content-type": "application/json; charset=utf-8"}, None),
    ],
)
def test_the_rules(headers: dict[str, str], refused: type[Exception] | None) -> None:
    full = {"host": "tidings.example", "content-type": "application/json", **headers}
    if refused is None:
        csrf.check("POST", full)
    else:
        with pytest.raises(refused):
            csrf.check("POST", full)
