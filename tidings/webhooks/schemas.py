"""Request bodies of the webhook operations (Klaviyo's shapes)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TopicIdentifier(_Strict):
    type: Literal["webhook-topic"]
    id: str = Field(min_length=1, max_length=255)


class TopicRelationship(_Strict):
    data: list[TopicIdentifier] = Field(max_length=500)


class WebhookRelationships(_Strict):
    webhook_topics: TopicRelationship = Field(alias="webhook-topics")


class WebhookUpdateRelationships(_Strict):
    webhook_topics: TopicRelationship | None = Field(None, alias="webhook-topics")


class WebhookCreateAttributes(_Strict):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(None, max_length=1000)
    endpoint_url: str = Field(min_length=1, max_length=2000)
    secret_key: str = Field(min_length=1, max_length=255)


class WebhookCreateData(_Strict):
    type: Literal["webhook"]
    attributes: WebhookCreateAttributes
    relationships: WebhookRelationships


class WebhookCreate(_Strict):
    data: WebhookCreateData


class WebhookUpdateAttributes(_Strict):
    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=1000)
    endpoint_url: str | None = Field(None, min_length=1, max_length=2000)
    secret_key: str | None = Field(None, min_length=1, max_length=255)
    enabled: bool | None = None


class WebhookUpdateData(_Strict):
    type: Literal["webhook"]
    id: str
    attributes: WebhookUpdateAttributes
    relationships: WebhookUpdateRelationships | None = None


class WebhookUpdate(_Strict):
    data: WebhookUpdateData
