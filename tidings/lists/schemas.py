"""Request bodies of the list endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

OptIn = Literal["double_opt_in", "single_opt_in"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListCreateAttributes(Strict):
    name: str = Field(max_length=255)
    opt_in_process: OptIn | None = None


class ListCreateData(Strict):
    type: Literal["list"]
    attributes: ListCreateAttributes


class ListCreateQuery(Strict):
    data: ListCreateData


class ListUpdateAttributes(Strict):
    name: str | None = Field(None, max_length=255)
    opt_in_process: OptIn | None = None


class ListUpdateData(Strict):
    type: Literal["list"]
    id: str
    attributes: ListUpdateAttributes


class ListUpdateQuery(Strict):
    data: ListUpdateData


class ProfileRef(Strict):
    type: Literal["profile"]
    id: str


class ListMembersQuery(Strict):
    data: list[ProfileRef]
