"""Klaviyo's compound catalog ids: `$custom:::$default:::<external_id>`.

Only the `$custom` integration and the `$default` catalog exist, so the id is a pure
function of the external id; it is still stored whole, so other catalogs can come later.
"""

from __future__ import annotations

import re

INTEGRATION = "$custom"
CATALOG = "$default"
SEPARATOR = ":::"
PREFIX = f"{INTEGRATION}{SEPARATOR}{CATALOG}{SEPARATOR}"
MAX_EXTERNAL_ID = 255
_CONTROL = re.compile(r"[\x00-\x1f]")


class MalformedId(ValueError):
    """An id that is not `$custom:::$default:::<external_id>`."""


def compound_id(external_id: str) -> str:
    return PREFIX + external_id


def external_id_of(compound: str) -> str:
    """The external id inside a compound id; raises MalformedId with the reason."""
    parts = compound.split(SEPARATOR, 2)
    if len(parts) != 3:
        raise MalformedId(
            f"{compound!r} is not a catalog id; expected the form "
            f"'{INTEGRATION}{SEPARATOR}{CATALOG}{SEPARATOR}<external_id>'."
        )
    integration, catalog, external_id = parts
    if integration != INTEGRATION:
        raise MalformedId(f"Unsupported integration type {integration!r} in {compound!r}; only '$custom'.")
    if catalog != CATALOG:
        raise MalformedId(f"Unsupported catalog type {catalog!r} in {compound!r}; only '$default'.")
    problem = external_id_problem(external_id)
    if problem:
        raise MalformedId(f"Invalid external id in {compound!r}: {problem}")
    return external_id


def external_id_problem(external_id: str) -> str | None:
    """Why an external id cannot be used, or None.

    A `/` would reach the server as `%2F` inside a path segment and make the resource
    unreachable by id, so it is refused rather than stored.
    """
    if not external_id.strip():
        return "the external id is empty."
    if len(external_id) > MAX_EXTERNAL_ID:
        return f"the external id is longer than {MAX_EXTERNAL_ID} characters."
    if "/" in external_id:
        return "the external id may not contain '/'."
    if _CONTROL.search(external_id):
        return "the external id may not contain control characters."
    return None
