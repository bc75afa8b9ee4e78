"""Request bodies of the coupon endpoints (the spec's create and update documents)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CodeStatus = Literal[
    "ASSIGNED_TO_PROFILE", "DELETING", "PROCESSING", "UNASSIGNED", "USED", "VERSION_NOT_ACTIVE"
]
MAX_BULK = 1000  # codes per bulk job (the spec's figure)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CouponCreateAttributes(Strict):
    # Letters, digits, and the punctuation shops use in discount ids; no spaces or slashes (the
    # id goes in URLs and, with a code, in a code's id).
    external_id: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str | None = Field(None, max_length=1000)
    monitor_configuration: dict[str, Any] | None = None


class CouponCreateData(Strict):
    type: Literal["coupon"]
    attributes: CouponCreateAttributes


class CouponCreateQuery(Strict):
    data: CouponCreateData


class CouponUpdateAttributes(Strict):
    description: str | None = Field(None, max_length=1000)
    monitor_configuration: dict[str, Any] | None = None


class CouponUpdateData(Strict):
    type: Literal["coupon"]
    id: str
    attributes: CouponUpdateAttributes


class CouponUpdateQuery(Strict):
    data: CouponUpdateData


class CouponRef(Strict):
    type: Literal["coupon"]
    id: str = Field(min_length=1, max_length=255)


class CouponRelationship(Strict):
    data: CouponRef


class CodeRelationships(Strict):
    coupon: CouponRelationship


class CodeCreateAttributes(Strict):
    unique_code: str = Field(min_length=1, max_length=255, pattern=r"^\S+$")
    expires_at: dt.datetime | None = None


class CodeCreateData(Strict):
    type: Literal["coupon-code"]
    attributes: CodeCreateAttributes
    relationships: CodeRelationships


class CodeCreateQuery(Strict):
    data: CodeCreateData


class CodeUpdateAttributes(Strict):
    status: CodeStatus | None = None
    expires_at: dt.datetime | None = None


class CodeUpdateData(Strict):
    type: Literal["coupon-code"]
    id: str
    attributes: CodeUpdateAttributes


class CodeUpdateQuery(Strict):
    data: CodeUpdateData


class BulkCodes(Strict):
    data: list[dict[str, Any]]  # each entry validated on its own (CodeCreateData), errors by index


class BulkJobAttributes(Strict):
    coupon_codes: BulkCodes = Field(alias="coupon-codes")


class BulkJobData(Strict):
    type: Literal["coupon-code-bulk-create-job"]
    attributes: BulkJobAttributes


class BulkJobQuery(Strict):
    data: BulkJobData
