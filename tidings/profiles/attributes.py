"""Profile attributes as a write path sends them: "omitted" differs from "null".

`ProfileAttributes` holds the descriptive attributes of one profile block; every field
defaults to `UNSET` (not sent). `apply_attributes` applies them to a profile's current
values with Klaviyo's update rules:

- an omitted field keeps its value, `None` clears it;
- `location` is merged key by key (a `None` location clears it all);
- `properties` is merged key by key (sent keys replaced, others kept; `None` clears them all);
- `meta.patch_properties`: `append` adds a value or values to a list property (creating
  the list), `unappend` removes them, `unset` deletes keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, Final, TypeAlias

from tidings.jsonapi.errors import InvalidInput

MAX_PROPERTIES = 400
MAX_PROPERTY_NAME = 255
MAX_PROPERTY_BYTES = 100_000


class _Unset(Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = _Unset.UNSET
Unset = _Unset
# Each field: sent with a value, sent as null, or not sent (UNSET).
MaybeStr: TypeAlias = str | _Unset | None
MaybeDict: TypeAlias = dict[str, Any] | _Unset | None


SCALAR_FIELDS = ("first_name", "last_name", "organization", "title", "locale", "image")
LOCATION_FIELDS = (
    "address1",
    "address2",
    "city",
    "country",
    "latitude",
    "longitude",
    "region",
    "zip",
    "timezone",
    "ip",
)


@dataclass
class ProfileAttributes:
    first_name: MaybeStr = UNSET
    last_name: MaybeStr = UNSET
    organization: MaybeStr = UNSET
    title: MaybeStr = UNSET
    locale: MaybeStr = UNSET
    image: MaybeStr = UNSET
    location: MaybeDict = UNSET
    properties: MaybeDict = UNSET

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProfileAttributes:
        """From an attributes dict where a missing key means "not sent"."""
        return cls(**{k: v for k, v in data.items() if k in ATTRIBUTE_NAMES})

    def is_empty(self) -> bool:
        return all(getattr(self, name) is UNSET for name in ATTRIBUTE_NAMES)


ATTRIBUTE_NAMES = frozenset(f.name for f in fields(ProfileAttributes))


@dataclass
class PatchProperties:
    append: dict[str, Any] = field(default_factory=dict)
    unappend: dict[str, Any] = field(default_factory=dict)
    unset: list[str] = field(default_factory=list)

    @classmethod
    def from_meta(cls, raw: dict[str, Any] | None) -> PatchProperties | None:
        if not raw:
            return None
        unset = raw.get("unset")
        names = [unset] if isinstance(unset, str) else list(unset or [])
        return cls(
            append=dict(raw.get("append") or {}), unappend=dict(raw.get("unappend") or {}), unset=names
        )

    def is_empty(self) -> bool:
        return not (self.append or self.unappend or self.unset)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def apply_patch(properties: dict[str, Any], patch: PatchProperties) -> dict[str, Any]:
    out = dict(properties)
    for key, value in patch.append.items():
        current = out.get(key)
        items = [] if current is None else _as_list(current)
        out[key] = items + _as_list(value)
    for key, value in patch.unappend.items():
        if key in out and out[key] is not None:
            drop = _as_list(value)
            out[key] = [item for item in _as_list(out[key]) if item not in drop]
    for key in patch.unset:
        out.pop(key, None)
    return out


def apply_attributes(
    current: dict[str, Any], attributes: ProfileAttributes, patch: PatchProperties | None = None
) -> dict[str, Any]:
    """The changed columns (name -> new value) after applying `attributes` to `current`."""
    changes: dict[str, Any] = {}
    for name in SCALAR_FIELDS:
        value = getattr(attributes, name)
        if value is not UNSET and current.get(name) != value:
            changes[name] = value
    if attributes.location is not UNSET:
        if attributes.location is None:
            location = None
        else:
            location = dict(current.get("location") or {})
            for key, value in attributes.location.items():
                if value is None:
                    location.pop(key, None)
                else:
                    location[key] = value
            location = location or None
        if location != current.get("location"):
            changes["location"] = location
    properties = dict(current.get("properties") or {})
    if attributes.properties is not UNSET:
        properties = {} if attributes.properties is None else {**properties, **attributes.properties}
    if patch is not None:
        properties = apply_patch(properties, patch)
    if properties != (current.get("properties") or {}):
        changes["properties"] = properties
    return changes


def check_properties(properties: Any, pointer: str = "/data/attributes/properties") -> list[InvalidInput]:
    """Klaviyo's limits: at most 400 properties, names up to 255 characters, values up to 100 KB."""
    if properties is None or properties is UNSET:
        return []
    if not isinstance(properties, dict):
        return [InvalidInput("properties must be an object.", pointer=pointer)]
    errors: list[InvalidInput] = []
    if len(properties) > MAX_PROPERTIES:
        errors.append(
            InvalidInput(
                f"A profile may have at most {MAX_PROPERTIES} custom properties; got {len(properties)}.",
                pointer=pointer,
            )
        )
    for name, value in properties.items():
        if not name.strip() or len(name) > MAX_PROPERTY_NAME:
            errors.append(
                InvalidInput(
                    f"Property names must be 1 to {MAX_PROPERTY_NAME} characters.",
                    pointer=f"{pointer}/{name}",
                )
            )
        elif isinstance(value, str | dict | list) and _size(value) > MAX_PROPERTY_BYTES:
            errors.append(
                InvalidInput(
                    f"Property {name!r} is larger than {MAX_PROPERTY_BYTES // 1000} KB.",
                    pointer=f"{pointer}/{name}",
                )
            )
    return errors


def _size(value: Any) -> int:
    if isinstance(value, str):
        # A character is at most 4 bytes: short strings need no encoding to be measured.
        return len(value) if len(value) * 4 <= MAX_PROPERTY_BYTES else len(value.encode())
    return len(json.dumps(value, default=str).encode())
