"""The inputs and results of identity resolution (tidings/profiles/identity.py): a profile block
as every write path gives it, where it came from, and what resolving it did."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from tidings.profiles.attributes import PatchProperties, ProfileAttributes

PRECEDENCE = ("external_id", "email", "phone_number", "anonymous_id", "kx")


class Source(StrEnum):
    API = "api"  # private-key REST profile writes: strict, overwrite, never merge
    IMPORT = "import"  # bulk import and CSV: as API, one result per row
    EVENT = "event"  # server-side events: fill, merge
    SUBSCRIPTION = "subscription"  # consent writes: fill, merge
    CLIENT = "client"  # public key (/client, legacy track/identify): no identifier changes


STRICT = {Source.API, Source.IMPORT}


@dataclass
class ProfileInput:
    """One profile block, validated and normalised. `kx` is the `_kx` attribute."""

    id: str | None = None
    email: str | None = None
    phone_number: str | None = None
    external_id: str | None = None
    anonymous_id: str | None = None
    kx: str | None = None
    attributes: ProfileAttributes = field(default_factory=ProfileAttributes)
    patch_properties: PatchProperties | None = None
    clear: frozenset[str] = frozenset()  # identifier columns sent as null (API/IMPORT): cleared

    def identifier(self, kind: str) -> str | None:
        value: str | None = getattr(self, kind)
        return value

    def has_identifier(self) -> bool:
        return bool(self.id) or any(self.identifier(kind) for kind in PRECEDENCE)


@dataclass
class Conflict:
    field: str  # "email", "phone_number", "external_id", ...
    value: str
    profile_id: str


@dataclass
class Resolution:
    profile_id: str | None
    created: bool = False
    updated: bool = False
    merged_from: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    conflict: Conflict | None = None
    not_found: bool = False
    error: str | None = None  # a problem with the input's attributes (e.g. too many properties)

    @property
    def ok(self) -> bool:
        return self.profile_id is not None and self.conflict is None and not self.not_found
