"""Request bodies of the image endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImageCreateAttributes(Strict):
    name: str | None = Field(None, max_length=255)
    import_from_url: str = Field(min_length=1, max_length=8 * 1024 * 1024)
    hidden: bool | None = False


class ImageCreateData(Strict):
    type: Literal["image"]
    attributes: ImageCreateAttributes


class ImageCreateQuery(Strict):
    data: ImageCreateData


class ImageUpdateAttributes(Strict):
    name: str | None = Field(None, min_length=1, max_length=255)
    hidden: bool | None = None


class ImageUpdateData(Strict):
    type: Literal["image"]
    id: str
    attributes: ImageUpdateAttributes


class ImageUpdateQuery(Strict):
    data: ImageUpdateData
