"""Validation and normalisation of profile identifiers: the one place every write path asks.

REST, `/client`, events, legacy track/identify and imports all call `validate_identifiers`,
so the same email or phone number is accepted, normalised or refused the same way
everywhere:

- email: trimmed, lower-cased (Klaviyo compares emails case-insensitively), syntax checked;
- phone_number: parsed with `phonenumbers` and normalised to E.164 (`+16175551234`); it must
  carry its country code;
- external_id, anonymous_id, _kx: trimmed non-empty strings of at most 255 characters.

An invalid identifier is an error when no other identifier in the same payload is valid;
otherwise it is dropped and reported as a partial failure (Klaviyo answers such requests
with `X-Klaviyo-Partial-Failure: phone_number`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers

from tidings.jsonapi.errors import ErrorList, InvalidInput

MAX_EMAIL = 254
MAX_IDENTIFIER = 255
PARTIAL_FAILURE_HEADER = "X-Klaviyo-Partial-Failure"

# One "@", no whitespace, a dotted domain whose labels are letters, digits and hyphens.
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$"
)


class IdentifierError(ValueError):
    """An identifier that cannot be used; `field` is the attribute name."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


def normalize_email(value: str) -> str:
    text = value.strip().lower()
    if not text:
        raise IdentifierError("email", "Email cannot be empty.")
    if len(text) > MAX_EMAIL:
        raise IdentifierError("email", f"Email is longer than {MAX_EMAIL} characters.")
    local, _, _domain = text.partition("@")
    if not _EMAIL.match(text) or local.startswith(".") or local.endswith(".") or ".." in text:
        raise IdentifierError("email", f"Invalid email address: {value!r}.")
    return text


@lru_cache(maxsize=65536)
def _parse_phone(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone(value: str) -> str:
    text = value.strip()
    if not text.startswith("+") and text.startswith("00"):
        text = "+" + text[2:]
    parsed = _parse_phone(text) if text.startswith("+") else None
    if parsed is None:
        raise IdentifierError(
            "phone_number",
            f"Invalid phone number {value!r}: expected E.164 with the country code "
            "(Example of a valid format: +12345678901).",
        )
    return parsed


def normalize_token(field_name: str, value: str) -> str:
    text = value.strip()
    if not text:
        raise IdentifierError(field_name, f"{field_name} cannot be empty.")
    if len(text) > MAX_IDENTIFIER:
        raise IdentifierError(field_name, f"{field_name} is longer than {MAX_IDENTIFIER} characters.")
    return text


_NORMALIZERS = {
    "email": normalize_email,
    "phone_number": normalize_phone,
}
IDENTIFIER_FIELDS = ("external_id", "email", "phone_number", "anonymous_id", "_kx")


def normalize(field_name: str, value: str) -> str:
    if not isinstance(value, str):
        raise IdentifierError(field_name, f"{field_name} must be a string.")
    normalizer = _NORMALIZERS.get(field_name)
    return normalizer(value) if normalizer else normalize_token(field_name, value)


@dataclass
class CheckedIdentifiers:
    """The valid identifiers of one payload (normalised) and the fields that were dropped."""

    values: dict[str, str | None] = field(default_factory=dict)  # field -> value; None = sent as null
    ignored: list[str] = field(default_factory=list)
    errors: list[IdentifierError] = field(default_factory=list)


def check_identifiers(
    raw: dict[str, object], *, has_profile_id: bool = False, partial: bool = True
) -> CheckedIdentifiers:
    """Normalise the identifier fields present in `raw` (attribute name -> value).

    With `partial`, invalid identifiers are dropped (listed in `ignored`) as long as
    another identifier (or a profile id) is valid; otherwise they are all in `errors`.
    """
    out = CheckedIdentifiers()
    for name in IDENTIFIER_FIELDS:
        if name not in raw:
            continue
        value = raw[name]
        if value is None:
            out.values[name] = None
            continue
        try:
            out.values[name] = normalize(name, value)  # type: ignore[arg-type]
        except IdentifierError as exc:
            out.errors.append(exc)
    usable = has_profile_id or any(v is not None for v in out.values.values())
    if out.errors and partial and usable:
        out.ignored = [e.field for e in out.errors]
        out.errors = []
    return out


def raise_errors(errors: list[IdentifierError], pointer_prefix: str = "/data/attributes") -> None:
    """Raise the identifier errors as JSON:API 400s pointing at each field."""
    if not errors:
        return
    problems = [InvalidInput(e.detail, pointer=f"{pointer_prefix}/{e.field}") for e in errors]
    if len(problems) == 1:
        raise problems[0]
    raise ErrorList(list(problems))
