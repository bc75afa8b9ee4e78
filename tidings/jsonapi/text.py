"""Text no database stores: a NUL character, or a lone UTF-16 surrogate.

Python's JSON parser reads both (`"\\u0000"`, `"\\ud800"`, and a raw surrogate in UTF-8 bytes,
which it decodes with `surrogatepass`); SQLite's driver then cannot encode the string and
PostgreSQL refuses it. Every JSON body is checked here before anything reads it: the REST
routes' dependency (`refuse_unstorable_text`, wired in `tidings.http`) and the ingestion
models, each error with its pointer.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from fastapi import Request

from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput

NUL_DETAIL = "Strings cannot contain the NUL character (\\u0000)."
UNSTORABLE = "Strings cannot contain a lone UTF-16 surrogate ({}): it is not text any database stores."


def storable(text: str) -> bool:
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def shown(text: str) -> str:
    """`text` as it can appear in a response (a lone surrogate as its escape, `\\ud800`)."""
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode()


def text_error(text: str, pointer: str) -> APIError:
    if "\x00" in text:
        return InvalidInput(NUL_DETAIL, pointer=pointer or "/")
    surrogate = next(c for c in text if "\ud800" <= c <= "\udfff")
    return InvalidInput(UNSTORABLE.format(shown(surrogate)), pointer=pointer or "/")


def unstorable_text(value: Any, pointer: str, out: list[APIError]) -> None:
    """Report the strings of a parsed JSON value, keys included, that no database stores, in
    document order. A loop, not recursion: whatever `json.loads` could nest, this reaches."""
    stack: list[tuple[str, Any, str | None]] = [(pointer, value, None)]
    while stack:
        where, item, key = stack.pop()
        if key is not None and not storable(key):
            out.append(text_error(key, where))
        if isinstance(item, str):
            if not storable(item):
                out.append(text_error(item, where))
        elif isinstance(item, dict):
            stack.extend(reversed([(f"{where}/{shown(k)}", v, k) for k, v in item.items()]))
        elif isinstance(item, list):
            stack.extend(reversed([(f"{where}/{i}", v, None) for i, v in enumerate(item)]))


def _json_media_type(content_type: str | None) -> bool:
    """As FastAPI decides to parse a body as JSON: no content type, or `application/*json`."""
    if not content_type:
        return True
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    json_subtype = subtype == "json" or subtype.endswith("+json")
    return message.get_content_maintype() == "application" and json_subtype


async def refuse_unstorable_text(request: Request) -> None:
    """A dependency: refuse a JSON body holding text no database stores, every string with its
    pointer. An ASCII body without a `\\ud` escape holds none, which a byte scan tells at C speed:
    only the other bodies are walked."""
    if not _json_media_type(request.headers.get("content-type")):
        return
    body = await request.body()
    if not body or (body.isascii() and b"\\ud" not in body and b"\\uD" not in body):
        return
    try:
        document = await request.json()
    except ValueError:  # not JSON: the route's own parsing answers
        return
    errors: list[APIError] = []
    unstorable_text(document, "", errors)
    if errors:
        raise ErrorList(errors)
