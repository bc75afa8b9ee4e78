"""The request body of bulk_import_profiles (its profiles are profile-import's upsert resources)."""

from __future__ import annotations

from typing import Literal

from tidings.profiles.schemas import ProfileUpsertData, Strict


class ImportProfiles(Strict):
    data: list[ProfileUpsertData]


class ImportAttributes(Strict):
    profiles: ImportProfiles


class ListRef(Strict):
    type: Literal["list"]
    id: str


class ListRefs(Strict):
    data: list[ListRef]


class ImportRelationships(Strict):
    lists: ListRefs | None = None


class ImportJobData(Strict):
    type: Literal["profile-bulk-import-job"]
    attributes: ImportAttributes
    relationships: ImportRelationships | None = None


class ImportJobCreateQuery(Strict):
    data: ImportJobData
