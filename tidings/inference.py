"""Klaviyo's rules for the type of a custom property (profiles and events share them).

Segments compare a property by its inferred type, so "2024-05-01" is a date and "yes" is a
boolean only where the rules say so.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Any


class PropertyType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    LIST = "list"
    OBJECT = "object"

    @property
    def label(self) -> str:
        """The name Klaviyo shows (`inferred_type` of a metric property)."""
        return self.value.capitalize()


TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0"}
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:?\d{2})?)?$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})( (\d{1,2}):(\d{2}))?$")


def parse_date(value: Any) -> dt.datetime | None:
    """A datetime from the formats Klaviyo recognises; naive values and bare dates are UTC."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _ISO.match(text):
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    match = _US.match(text)
    if match:
        month, day, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
        hour, minute = (int(match.group(5)), int(match.group(6))) if match.group(4) else (0, 0)
        try:
            return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)
        except ValueError:
            return None
    return None


def coerce_boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int | float):
        return bool(value) if value in (0, 1) else None
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


def coerce_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def infer_type(value: Any) -> PropertyType | None:
    """The type of one value; None for null (it says nothing about the type)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return PropertyType.BOOLEAN
    if isinstance(value, int | float):
        return PropertyType.NUMBER
    if isinstance(value, list | tuple):
        return PropertyType.LIST
    if isinstance(value, dict):
        return PropertyType.OBJECT
    if isinstance(value, str):
        if parse_date(value) is not None:
            return PropertyType.DATE
        if value.strip().lower() in {"true", "false"}:
            return PropertyType.BOOLEAN
        return PropertyType.STRING
    return PropertyType.STRING


_INTEGER = re.compile(r"^[+-]?(?:0|[1-9]\d{0,17})$")
_DECIMAL = re.compile(r"^[+-]?(?:0|[1-9]\d*)\.\d+$")


def from_text(text: str) -> Any:
    """The value a text cell (a CSV column) stands for, as Klaviyo's importer reads it: a number,
    `true`/`false` as a boolean, anything else as the text itself (a date stays text, and its
    property is then inferred a date). Leading zeros, exponents and thousands separators keep
    text ("02110", "1e3", "1,000"), so zip codes and codes with leading zeros are not altered."""
    first = text[:1]
    if first.isdigit() or first in ("-", "+"):
        if _INTEGER.match(text):
            return int(text)
        if _DECIMAL.match(text):
            return float(text)
    elif len(text) in (4, 5):
        lowered = text.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
    return text
