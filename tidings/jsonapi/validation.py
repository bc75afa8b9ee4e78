"""Pydantic validation errors as JSON:API errors, each with its `source.pointer` or parameter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tidings.jsonapi.errors import APIError, InvalidInput


def _pointer(loc: tuple[Any, ...]) -> tuple[str | None, str | None]:
    if not loc:
        return "/", None
    where, rest = loc[0], [str(part) for part in loc[1:]]
    if where == "body":
        return "/" + "/".join(rest), None
    if where in ("query", "header", "path"):
        return None, rest[0] if rest else where
    return "/" + "/".join(str(part) for part in loc), None


def validation_errors(items: Sequence[Mapping[str, Any]]) -> list[APIError]:
    """Errors in FastAPI's shape: `loc` starts with where the value was (body, query, header, path)."""
    errors: list[APIError] = []
    for item in items:
        loc = tuple(item.get("loc", ()))
        kind = item.get("type", "")
        if kind == "json_invalid":
            errors.append(InvalidInput("The request body is not valid JSON.", pointer="/"))
            continue
        pointer, parameter = _pointer(loc)
        message = item.get("msg", "Invalid value.")
        if kind == "extra_forbidden":
            message = f"'{loc[-1]}' is not a valid field for this resource."
        elif kind == "missing":
            message = f"'{loc[-1]}' is a required field." if loc else "A required field is missing."
        errors.append(InvalidInput(message, pointer=pointer, parameter=parameter))
    return errors or [InvalidInput("Invalid input.")]
