"""Request bodies of the web feed operations."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Method = Literal["get", "post"]
ContentType = Literal["json", "xml"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebFeedCreateAttributes(Strict):
    name: str = Field(min_length=1, max_length=255)
    url: str = Field(min_length=1, max_length=2048)
    request_method: Method
    content_type: ContentType


class WebFeedCreateData(Strict):
    type: Literal["web-feed"]
    attributes: WebFeedCreateAttributes


class WebFeedCreateQuery(Strict):
    data: WebFeedCreateData


class WebFeedUpdateAttributes(Strict):
    name: str | None = Field(None, min_length=1, max_length=255)
    url: str | None = Field(None, min_length=1, max_length=2048)
    request_method: Method | None = None
    content_type: ContentType | None = None


class WebFeedUpdateData(Strict):
    type: Literal["web-feed"]
    id: str = Field(max_length=64)
    attributes: WebFeedUpdateAttributes


class WebFeedUpdateQuery(Strict):
    data: WebFeedUpdateData
