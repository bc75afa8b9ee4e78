"""Request bodies of the send job and recipient estimation operations."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SendJobData(_Strict):
    type: Literal["campaign-send-job"]
    id: str = Field(min_length=1, max_length=64)


class SendJobCreate(_Strict):
    data: SendJobData


class SendJobAction(_Strict):
    action: Literal["cancel", "revert"]


class SendJobUpdateData(_Strict):
    type: Literal["campaign-send-job"]
    id: str = Field(min_length=1, max_length=64)
    attributes: SendJobAction


class SendJobUpdate(_Strict):
    data: SendJobUpdateData


class EstimationJobData(_Strict):
    type: Literal["campaign-recipient-estimation-job"]
    id: str = Field(min_length=1, max_length=64)


class EstimationJobCreate(_Strict):
    data: EstimationJobData
