"""What the HTTP providers (Twilio, FCM, APNs) share: reading `Retry-After`, classing a
transport failure, reading a JSON answer.

A transport failure before a response is retryable for the caller's policy to decide: the
ledger never resends an SMS or a push whose outcome is ambiguous (the janitor marks the row
`unknown`); the worker only retries what a provider said it did not take.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from tidings.delivery.provider import AmbiguousSendError, RetryableSendError, SendError

MAX_RETRY_AFTER = 3600.0  # a longer wait is capped: the worker's backoff takes over


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from `Retry-After` (a number or an HTTP date), or None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def throttled(provider: str, response: httpx.Response, detail: str | None = None) -> RetryableSendError:
    """A 429 or a 5xx: not taken this time, come back after Retry-After."""
    return RetryableSendError(
        f"{provider}_{response.status_code}",
        detail or response.text[:500] or None,
        retry_after=retry_after(response),
    )


# Raised before a byte of the request reached the provider: safe to try again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def transport_error(provider: str, error: httpx.HTTPError) -> SendError:
    """No response: retryable when the request cannot have reached the provider, else ambiguous."""
    detail = f"{type(error).__name__}: {error}"[:500]
    if isinstance(error, _NOT_SENT):
        kind = "timeout" if isinstance(error, httpx.TimeoutException) else "unreachable"
        return RetryableSendError(f"{provider}_{kind}", detail)
    return AmbiguousSendError(f"{provider}_no_answer", detail)


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or {} when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
