"""The required `revision` header: `YYYY-MM-DD[.suffix]`, from 2023-01-01 on."""

from __future__ import annotations

import datetime as dt
import re

from tidings.jsonapi.errors import InvalidInput

REVISION = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(\.[A-Za-z0-9_-]+)?$")
OLDEST = dt.date(2023, 1, 1)


def check_revision(value: str | None) -> dt.date:
    if not value:
        raise InvalidInput(
            "The 'revision' header is required (format: YYYY-MM-DD, e.g. 2026-07-15).", parameter="revision"
        )
    match = REVISION.match(value.strip())
    try:
        when = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None
    except ValueError:
        when = None
    if when is None:
        raise InvalidInput(f"Invalid revision {value!r}: use YYYY-MM-DD[.suffix].", parameter="revision")
    if when < OLDEST:
        raise InvalidInput(
            f"Revision {value!r} is no longer supported (oldest: 2023-01-01).", parameter="revision"
        )
    return when
