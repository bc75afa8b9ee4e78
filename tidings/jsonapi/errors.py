"""One error type carrying Klaviyo's status and code; one renderer for every error body."""

from __future__ import annotations

import uuid
from typing import Any


class APIError(Exception):
    status = 400
    code = "invalid"
    title = "Invalid input."

    def __init__(
        self,
        detail: str,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
        meta: dict[str, Any] | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.pointer = pointer
        self.parameter = parameter
        self.meta = meta
        self.headers = headers or {}
        if code is not None:
            self.code = code

    def as_error_object(self) -> dict[str, Any]:
        return error_object(
            self.status, self.code, self.title, self.detail, self.pointer, self.parameter, self.meta
        )


class InvalidInput(APIError):
    pass


class NotAuthenticated(APIError):
    status, code, title = 401, "not_authenticated", "Authentication credentials were not provided."


class AuthenticationFailed(APIError):
    status, code, title = 401, "not_authenticated", "Incorrect authentication credentials."


class PermissionDenied(APIError):
    status, code, title = 403, "permission_denied", "You do not have permission to perform this action."


class NotFound(APIError):
    status, code, title = 404, "not_found", "Not found."


class MethodNotAllowed(APIError):
    status, code, title = 405, "method_not_allowed", "Method not allowed."


class Conflict(APIError):
    status, code, title = 409, "conflict", "Conflict."


class PayloadTooLarge(APIError):
    status, code, title = 413, "request_too_large", "Request entity too large."


class UnsupportedMediaType(APIError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type."


class Throttled(APIError):
    status, code, title = 429, "throttled", "Request was throttled."


class ServerError(APIError):
    status, code, title = 500, "error", "A server error occurred."


class ErrorList(Exception):
    """Several errors at once (a batch reports every bad item, not just the first)."""

    def __init__(self, errors: list[APIError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors
        self.status = max((e.status for e in errors), default=400) if errors else 400


def error_object(
    status: int,
    code: str,
    title: str,
    detail: str,
    pointer: str | None = None,
    parameter: str | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "status": status,
        "code": code,
        "title": title,
        "detail": detail,
        "source": {},
        "links": {},
        "meta": dict(meta or {}),
    }
    if pointer is not None:
        body["source"]["pointer"] = pointer
    if parameter is not None:
        body["source"]["parameter"] = parameter
    return body


def error_document(errors: list[APIError]) -> dict[str, Any]:
    return {"errors": [e.as_error_object() for e in errors]}


class ServiceUnavailable(APIError):
    status, code, title = 503, "service_unavailable", "Service temporarily unavailable."
