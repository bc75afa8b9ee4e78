"""Request bodies of the segment endpoints. The definition arrives as sent and is checked by
tidings.segments.definition (so it can be stored and echoed exactly)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SegmentCreateAttributes(Strict):
    name: str = Field(min_length=1, max_length=255)
    definition: dict[str, Any]
    is_starred: StrictBool | None = False


class SegmentCreateData(Strict):
    type: Literal["segment"]
    attributes: SegmentCreateAttributes


class SegmentCreateQuery(Strict):
    data: SegmentCreateData


class SegmentUpdateAttributes(Strict):
    name: str | None = Field(None, min_length=1, max_length=255)
    definition: dict[str, Any] | None = None
    is_starred: StrictBool | None = None
    is_active: StrictBool | None = None


class SegmentUpdateData(Strict):
    type: Literal["segment"]
    id: str
    attributes: SegmentUpdateAttributes


class SegmentUpdateQuery(Strict):
    data: SegmentUpdateData
