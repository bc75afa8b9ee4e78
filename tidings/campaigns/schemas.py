"""The typed parts of a campaign and the request bodies of the campaign operations.

Two request shapes, by revision (docs/COMPATIBILITY.md, "Campaigns"): the stable one
(revision 2026-07-15 and before: `audiences`, `send_strategy`, ..., `campaign-messages` in the
attributes) and the "omni" one the Python SDK 25 sends (revision 2026-10-15: `definition`,
inline `audiences` and `messages` with variations). Both are parsed into the same stored parts.
Every error carries the JSON pointer of the value (`parse` drops pydantic's union tags).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Lenient(BaseModel):
    """The omni shape's free-form parts (variation details): unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore")


# ---------------------------------------------------------------------------- campaign parts


class Audiences(_Strict):
    included: list[str] = Field(min_length=1, max_length=500)
    excluded: list[str] | None = Field(None, max_length=500)


class AudiencesUpdate(_Strict):
    included: list[str] | None = Field(None, max_length=500)
    excluded: list[str] | None = Field(None, max_length=500)


class SendOptions(_Strict):
    use_smart_sending: bool | None = True


DynamicValue = Literal[
    "campaign_id",
    "campaign_name",
    "campaign_name_id",
    "campaign_name_send_day",
    "email_subject",
    "group_id",
    "group_name",
    "group_name_id",
    "link_alt_text",
    "message_type",
    "profile_external_id",
    "profile_id",
]


class DynamicTrackingParam(_Strict):
    type: Literal["dynamic"]
    value: DynamicValue
    name: str = Field(min_length=1, max_length=255)


class StaticTrackingParam(_Strict):
    type: Literal["static"]
    value: str = Field(max_length=1000)
    name: str = Field(min_length=1, max_length=255)


TrackingParam = Annotated[DynamicTrackingParam | StaticTrackingParam, Field(discriminator="type")]


class TrackingOptions(_Strict):
    """Email's tracking options; SMS and push keep only the parameters."""

    add_tracking_params: bool | None = None
    custom_tracking_params: list[TrackingParam] | None = Field(None, max_length=20)
    is_tracking_clicks: bool | None = None
    is_tracking_opens: bool | None = None


class StaticOptions(_Strict):
    is_local: bool
    send_past_recipients_immediately: bool | None = None

    @model_validator(mode="after")
    def _only_local_sends_past(self) -> StaticOptions:
        if not self.is_local and self.send_past_recipients_immediately is not None:
            raise ValueError("send_past_recipients_immediately is only for a send in local time (is_local)")
        return self


class StaticSendStrategy(_Strict):
    method: Literal["static"]
    datetime: dt.datetime
    options: StaticOptions | None = None


ThrottlePercentage = Literal[1, 2, 5, 10, 11, 13, 14, 17, 20, 25, 33, 50]


class ThrottledSendStrategy(_Strict):
    method: Literal["throttled"]
    datetime: dt.datetime
    throttle_percentage: ThrottlePercentage


class ImmediateSendStrategy(_Strict):
    method: Literal["immediate"]


class SmartSendTimeStrategy(_Strict):
    method: Literal["smart_send_time"]
    date: dt.date


SendStrategy = Annotated[
    StaticSendStrategy | ThrottledSendStrategy | ImmediateSendStrategy | SmartSendTimeStrategy,
    Field(discriminator="method"),
]

# ---------------------------------------------------------------------------- message content


class EmailContent(_Strict):
    subject: str | None = Field(None, max_length=1000)
    preview_text: str | None = Field(None, max_length=1000)
    from_email: str | None = Field(None, max_length=512)
    from_label: str | None = Field(None, max_length=512)
    reply_to_email: str | None = Field(None, max_length=512)
    cc_email: str | None = Field(None, max_length=512)
    bcc_email: str | None = Field(None, max_length=512)


class EmailMessageDefinition(_Strict):
    channel: Literal["email"]
    label: str | None = Field(None, max_length=255)
    content: EmailContent | None = None


class SmsContent(_Strict):
    body: str | None = Field(None, max_length=10_000)
    media_url: str | None = Field(None, max_length=2048)


class RenderOptions(_Strict):
    shorten_links: bool | None = True
    add_org_prefix: bool | None = True
    add_info_link: bool | None = True
    add_opt_out_language: bool | None = False


class SmsMessageDefinition(_Strict):
    channel: Literal["sms"]
    content: SmsContent | None = None
    render_options: RenderOptions | None = None


class PushActionButton(_Strict):
    label: str = Field(max_length=255)
    action_type: str = Field(max_length=100)
    position: int | None = Field(None, ge=0, le=10)
    url: str | None = Field(None, max_length=2048)


class PushContent(_Strict):
    title: str | None = Field(None, max_length=1000)
    body: str | None = Field(None, max_length=10_000)
    dynamic_image: str | None = Field(None, max_length=2048)
    action_buttons: list[PushActionButton] | None = Field(None, max_length=10)


class PushOnOpen(_Strict):
    type: Literal["open_app", "deep_link", "open_web_url"]
    ios_deep_link: str | None = Field(None, max_length=2048)
    android_deep_link: str | None = Field(None, max_length=2048)
    web_url: str | None = Field(None, max_length=2048)


class PushBadgeOptions(_Strict):
    badge_config: Literal["increment_one", "set_count", "set_property"]
    value: str | None = Field(None, max_length=100)
    set_from_property: str | None = Field(None, max_length=255)


class PushBadge(_Strict):
    display: bool
    badge_options: PushBadgeOptions | None = None


class PushOptions(_Strict):
    on_open: PushOnOpen | None = None
    badge: PushBadge | None = None
    play_sound: bool | None = False


class PushMessageDefinition(_Strict):
    channel: Literal["mobile_push"]
    notification_type: Literal["standard", "silent"] = "standard"
    content: PushContent | None = None
    kv_pairs: dict[str, Any] | None = None
    options: PushOptions | None = None


MessageDefinition = Annotated[
    EmailMessageDefinition | SmsMessageDefinition | PushMessageDefinition, Field(discriminator="channel")
]

# ---------------------------------------------------------------------------- stable requests


class Relation(_Strict):
    type: str
    id: str = Field(min_length=1, max_length=64)


class ToOne(_Strict):
    data: Relation | None = None


class MessageRelationships(_Strict):
    image: ToOne | None = None


class MessageCreateAttributes(_Strict):
    definition: MessageDefinition


class MessageCreate(_Strict):
    type: Literal["campaign-message"]
    attributes: MessageCreateAttributes
    relationships: MessageRelationships | None = None


class MessageList(_Strict):
    data: list[MessageCreate] = Field(min_length=1, max_length=1)


class CampaignCreateAttributes(_Strict):
    name: str = Field(min_length=1, max_length=255)
    audiences: Audiences
    send_strategy: SendStrategy | None = None
    send_options: SendOptions | None = None
    tracking_options: TrackingOptions | None = None
    campaign_messages: MessageList = Field(alias="campaign-messages")


class CampaignCreateData(_Strict):
    type: Literal["campaign"]
    attributes: CampaignCreateAttributes
    relationships: dict[str, Any] | None = None


class CampaignCreate(_Strict):
    data: CampaignCreateData


class CampaignUpdateAttributes(_Strict):
    name: str | None = Field(None, min_length=1, max_length=255)
    audiences: AudiencesUpdate | None = None
    send_options: SendOptions | None = None
    tracking_options: TrackingOptions | None = None
    send_strategy: SendStrategy | None = None


class CampaignUpdateData(_Strict):
    type: Literal["campaign"]
    id: str
    attributes: CampaignUpdateAttributes


class CampaignUpdate(_Strict):
    data: CampaignUpdateData


class CampaignCloneAttributes(_Strict):
    new_name: str | None = Field(None, min_length=1, max_length=255)
    name: str | None = Field(None, min_length=1, max_length=255)  # the omni shape's spelling


class CampaignCloneData(_Strict):
    type: Literal["campaign"]
    id: str
    attributes: CampaignCloneAttributes | None = None


class CampaignClone(_Strict):
    data: CampaignCloneData


class MessageUpdateAttributes(_Strict):
    definition: MessageDefinition | None = None


class MessageUpdateData(_Strict):
    type: Literal["campaign-message"]
    id: str
    attributes: MessageUpdateAttributes
    relationships: MessageRelationships | None = None


class MessageUpdate(_Strict):
    data: MessageUpdateData


class TemplateRef(_Strict):
    type: Literal["template"]
    id: str = Field(min_length=1, max_length=64)


class TemplateRelation(_Strict):
    data: TemplateRef


class AssignRelationships(_Strict):
    template: TemplateRelation


class AssignTemplateData(_Strict):
    type: Literal["campaign-message"]
    id: str
    relationships: AssignRelationships


class AssignTemplate(_Strict):
    data: AssignTemplateData


# ---------------------------------------------------------------------------- omni requests


class OmniSendSettings(_Lenient):
    send_timezone: str | None = Field(None, max_length=64)
    send_strategy: str | None = Field(None, max_length=64)
    send_passed_rltz_immediately: bool | None = None
    exit_condition_enabled: bool | None = None
    exit_condition_conversion_metric_id: str | None = Field(None, max_length=64)


class OmniDefinition(_Lenient):
    name: str | None = Field(None, min_length=1, max_length=255)
    builder: Literal["canvas", "wizard"] | None = None
    archived: bool | None = None
    color: str | None = Field(None, max_length=20)
    description: str | None = Field(None, max_length=1000)
    send_settings: OmniSendSettings | None = None


class OmniAudience(_Lenient):
    temporary_id: str = Field(max_length=64)
    name: str | None = Field(None, max_length=255)
    included: list[str] | None = Field(None, max_length=500)
    excluded: list[str] | None = Field(None, max_length=500)


class OmniDetails(_Lenient):
    """A variation's channel details (email, sms or push), flat as the omni shape has them."""

    channel: Literal["email", "sms", "push"] = "email"
    template_id: str | None = Field(None, max_length=64)
    subject: str | None = Field(None, max_length=1000)
    preview_text: str | None = Field(None, max_length=1000)
    from_email: str | None = Field(None, max_length=512)
    from_label: str | None = Field(None, max_length=512)
    reply_to_email: str | None = Field(None, max_length=512)
    cc_email: str | None = Field(None, max_length=512)
    bcc_email: str | None = Field(None, max_length=512)
    body: str | None = Field(None, max_length=10_000)
    title: str | None = Field(None, max_length=1000)
    shorten_links: bool | None = None
    add_org_prefix: bool | None = None
    add_info_link: bool | None = None
    add_opt_out_language: bool | None = None
    push_type: Literal["standard", "silent"] | None = None
    kv_pairs: dict[str, Any] | None = None


class OmniVariationDefinition(_Lenient):
    name: str | None = Field(None, max_length=255)
    details: OmniDetails | None = None


class OmniVariation(_Lenient):
    definition: OmniVariationDefinition


class OmniMessage(_Lenient):
    audience_temporary_id: str = Field(max_length=64)
    name: str | None = Field(None, max_length=255)
    is_add_utm: bool | None = None
    throttling_type: str | None = Field(None, max_length=40)
    variations: list[OmniVariation] | None = Field(None, max_length=7)  # several: an A/B test


class OmniCreateAttributes(_Lenient):
    definition: OmniDefinition
    messages: list[OmniMessage] | None = Field(None, max_length=1)
    audiences: list[OmniAudience] | None = Field(None, max_length=20)


class OmniCreateData(_Lenient):
    type: Literal["campaign"]
    attributes: OmniCreateAttributes


class OmniCreate(_Lenient):
    data: OmniCreateData


class OmniUpdateAttributes(_Lenient):
    definition: OmniDefinition


class OmniUpdateData(_Lenient):
    type: Literal["campaign"]
    id: str
    attributes: OmniUpdateAttributes


class OmniUpdate(_Lenient):
    data: OmniUpdateData


class OmniMessageTracking(_Lenient):
    is_add_utm: bool | None = None
    is_tracking_clicks: bool | None = None
    is_tracking_opens: bool | None = None


class OmniAbTest(_Lenient):
    """SDK 25's `definition.ab_test` of a message (ABTestSettings)."""

    winner_metric: Literal["opens_unique", "clicks_unique", "placed_orders_unique"] | None = None
    winner_percentage: int | None = Field(None, ge=0, le=99)
    winner_wait_hours: int | None = Field(None, ge=1, le=24 * 7)


class OmniMessageDefinition(_Lenient):
    name: str | None = Field(None, max_length=255)
    tracking_options: OmniMessageTracking | None = None
    ab_test: OmniAbTest | None = None


class OmniMessageUpdateAttributes(_Lenient):
    definition: OmniMessageDefinition | None = None


class OmniMessageUpdateData(_Lenient):
    type: Literal["campaign-message"]
    id: str
    attributes: OmniMessageUpdateAttributes


class OmniMessageUpdate(_Lenient):
    data: OmniMessageUpdateData


# ---------------------------------------------------------------------------- parsing

M = TypeVar("M", bound=BaseModel)

# pydantic puts a discriminated union's tag in an error's location; a JSON pointer has none.
_UNIONS = {"send_strategy", "definition"}
_TAGS = {"static", "throttled", "immediate", "smart_send_time", "email", "sms", "mobile_push", "dynamic"}


def _pointer(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for index, part in enumerate(loc):
        previous = loc[index - 1] if index else None
        if part in _TAGS and (previous in _UNIONS or isinstance(previous, int)):
            continue
        parts.append(str(part).replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(parts)


def parse(model: type[M], body: Any) -> M:
    """`body` as `model`, or a 400 for each error with the pointer of its value."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        errors: list[APIError] = []
        for item in error.errors():
            loc = tuple(item.get("loc", ()))
            kind = item.get("type", "")
            if kind == "extra_forbidden":
                message = f"'{loc[-1]}' is not a valid field for this resource."
            elif kind == "missing":
                message = f"'{loc[-1]}' is a required field." if loc else "A required field is missing."
            else:
                message = str(item.get("msg", "Invalid value."))
            errors.append(InvalidInput(message, pointer=_pointer(loc)))
        raise ErrorList(errors) from None


def is_omni(body: Any) -> bool:
    """Whether a campaign body is in the omni shape (its attributes hold a `definition`)."""
    data = body.get("data") if isinstance(body, dict) else None
    attributes = data.get("attributes") if isinstance(data, dict) else None
    return isinstance(attributes, dict) and "definition" in attributes


class OmniVariationUpdateData(_Lenient):
    type: Literal["campaign-variation"]
    id: str
    attributes: OmniVariation


class OmniVariationUpdate(_Lenient):
    data: OmniVariationUpdateData


class CampaignRef(_Strict):
    type: Literal["campaign"]
    id: str = Field(min_length=1, max_length=64)


class CampaignRelation(_Strict):
    data: CampaignRef


class AudienceRef(_Strict):
    type: Literal["campaign-audience"]
    id: str = Field(min_length=1, max_length=64)


class AudienceRelation(_Strict):
    data: AudienceRef


class MessageCreateOmniRelationships(_Lenient):
    campaign: CampaignRelation
    campaign_audience: AudienceRelation = Field(alias="campaign-audience")


class MessageCreateOmniAttributes(_Lenient):
    definition: OmniMessageDefinition
    variations: list[OmniVariation] | None = Field(None, max_length=7)


class MessageCreateOmniData(_Lenient):
    type: Literal["campaign-message"]
    attributes: MessageCreateOmniAttributes
    relationships: MessageCreateOmniRelationships


class MessageCreateOmni(_Lenient):
    data: MessageCreateOmniData


class MessageRef(_Strict):
    type: Literal["campaign-message"]
    id: str = Field(min_length=1, max_length=64)


class MessageRelation(_Strict):
    data: MessageRef


class VariationCreateRelationships(_Lenient):
    campaign_message: MessageRelation = Field(alias="campaign-message")


class VariationCreateData(_Lenient):
    type: Literal["campaign-variation"]
    attributes: OmniVariation
    relationships: VariationCreateRelationships


class VariationCreate(_Lenient):
    data: VariationCreateData


class OmniAudienceUpdate(_Lenient):
    name: str | None = Field(None, max_length=255)
    included: list[str] | None = Field(None, max_length=500)
    excluded: list[str] | None = Field(None, max_length=500)
    priority: int | None = Field(None, ge=0, le=1000)  # one audience per campaign: kept as 1


class OmniAudienceUpdateAttributes(_Lenient):
    definition: OmniAudienceUpdate | None = None


class OmniAudienceUpdateData(_Lenient):
    type: Literal["campaign-audience"]
    id: str
    attributes: OmniAudienceUpdateAttributes


class OmniAudienceUpdateDocument(_Lenient):
    data: OmniAudienceUpdateData


class ImageRef(_Strict):
    type: Literal["image"]
    id: str = Field(min_length=1, max_length=64)


class ImageRelation(_Strict):
    data: ImageRef
