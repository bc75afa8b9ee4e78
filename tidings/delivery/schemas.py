"""Request documents of the delivery domain's endpoints (Tidings extensions)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProfileRef(Strict):
    """Who the message is for: a profile id, or identifiers (a new profile is made if none has them)."""

    id: str | None = Field(None, max_length=64)
    email: str | None = Field(None, max_length=320)
    phone_number: str | None = Field(None, max_length=64)
    external_id: str | None = Field(None, max_length=255)


class MessageSendAttributes(Strict):
    idempotency_key: str = Field(min_length=1, max_length=200)
    channel: Literal["email", "sms", "push"] = "email"
    profile: ProfileRef
    # email: a stored template, or html (and text) given here
    template_id: str | None = Field(None, max_length=64)
    html: str | None = None
    text: str | None = None
    subject: str | None = Field(None, max_length=998)
    preview_text: str | None = Field(None, max_length=998)
    from_email: str | None = Field(None, max_length=320)
    from_label: str | None = Field(None, max_length=255)
    reply_to_email: str | None = Field(None, max_length=320)
    # sms and push
    body: str | None = Field(None, max_length=10_000)
    title: str | None = Field(None, max_length=1_000)
    data: dict[str, str] | None = None
    transactional: bool = True
    send_at: dt.datetime | None = None


class MessageSendData(Strict):
    type: Literal["message-send"]
    attributes: MessageSendAttributes


class MessageSendCreate(Strict):
    data: MessageSendData
