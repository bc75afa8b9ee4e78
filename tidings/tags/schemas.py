"""Request bodies of the tag endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Name = Field(max_length=255)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NameAttributes(Strict):
    name: str = Name


class GroupRef(Strict):
    type: Literal["tag-group"]
    id: str


class GroupLink(Strict):
    data: GroupRef


class TagRelationships(Strict):
    tag_group: GroupLink | None = Field(None, alias="tag-group")


class TagCreateData(Strict):
    type: Literal["tag"]
    attributes: NameAttributes
    relationships: TagRelationships | None = None


class TagCreateQuery(Strict):
    data: TagCreateData


class TagUpdateData(Strict):
    type: Literal["tag"]
    id: str
    attributes: NameAttributes


class TagUpdateQuery(Strict):
    data: TagUpdateData


class GroupCreateAttributes(Strict):
    name: str = Name
    exclusive: bool | None = False


class GroupCreateData(Strict):
    type: Literal["tag-group"]
    attributes: GroupCreateAttributes


class GroupCreateQuery(Strict):
    data: GroupCreateData


class GroupUpdateAttributes(Strict):
    name: str = Name
    return_fields: list[str] | None = None  # in the spec's body; Tidings answers 204 with no body


class GroupUpdateData(Strict):
    type: Literal["tag-group"]
    id: str
    attributes: GroupUpdateAttributes


class GroupUpdateQuery(Strict):
    data: GroupUpdateData


class ListRef(Strict):
    type: Literal["list"]
    id: str


class SegmentRef(Strict):
    type: Literal["segment"]
    id: str


class CampaignRef(Strict):
    type: Literal["campaign"]
    id: str


class FlowRef(Strict):
    type: Literal["flow"]
    id: str


class TagListOp(Strict):
    data: list[ListRef]


class TagSegmentOp(Strict):
    data: list[SegmentRef]


class TagCampaignOp(Strict):
    data: list[CampaignRef]


class TagFlowOp(Strict):
    data: list[FlowRef]
