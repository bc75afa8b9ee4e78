"""A flow's actions as typed models, told apart by `type` (Pydantic discriminated unions).

Each action names where a run goes next: `links.next` for a linear action, `next_if_true` /
`next_if_false` for a conditional or trigger split, `branches[].links.next` for a multi-branch
split. `edges()` lists them with their JSON pointers, so the validator and, later, the executor
walk the same graph. Types Tidings refuses (code, WhatsApp, ...) are kept as models so the
refusal can say why, at the action's pointer.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt

from tidings.flows.conditions import BranchFilter, ProfileFilter, SplitTriggerFilter
from tidings.segments.definition import Number, Strict

Status = Literal["disabled", "draft", "live", "manual"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _check_timezone(value: str) -> str:
    if value != "profile" and value not in _zones():
        raise ValueError(f"{value!r} is not an IANA time zone (or 'profile')")
    return value


def _check_time(value: str) -> str:
    try:
        dt.time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day (HH:MM or HH:MM:SS)") from None
    return value


Timezone = Annotated[str, AfterValidator(_check_timezone)]
TimeOfDay = Annotated[str, AfterValidator(_check_time)]


class Link(Strict):
    next: str | None = None


class BooleanLinks(Strict):
    next_if_true: str | None
    next_if_false: str | None


class _Action(Strict):
    id: str | None = None
    temporary_id: str | None = None

    def edges(self) -> list[tuple[str, str, str | None]]:
        """(branch name, pointer relative to the action, target id) of each outgoing link."""
        links = getattr(self, "links", None)
        if links is None:
            return []
        if isinstance(links, BooleanLinks):
            return [
                ("true", "/links/next_if_true", links.next_if_true),
                ("false", "/links/next_if_false", links.next_if_false),
            ]
        return [("next", "/links/next", links.next)]


# ------------------------------------------------------------------------------- delays


class TimeDelayData(Strict):
    unit: Literal["days", "hours", "minutes"] = "days"
    value: StrictInt = Field(ge=0)
    secondary_value: StrictInt | None = Field(None, ge=0)
    timezone: Timezone = "profile"
    delay_until_time: TimeOfDay | None = None
    delay_until_weekdays: list[Weekday] | None = None


class TimeDelayAction(_Action):
    type: Literal["time-delay"]
    links: Link | None = None
    data: TimeDelayData


class CountdownDelayData(Strict):
    unit: Literal["days", "weeks", "months"] = "days"
    value: StrictInt = Field(0, ge=0)
    timezone: Timezone = "profile"
    delay_until_time: TimeOfDay | None = None
    delay_until_weekdays: list[Weekday] | None = None


class CountdownDelayAction(_Action):
    type: Literal["countdown-delay"]
    links: Link | None = None
    data: CountdownDelayData


class TargetDateData(Strict):
    timezone: Timezone = "profile"
    target_time: TimeOfDay | None = None
    target_days: list[Weekday] | None = None


class TargetDateAction(_Action):
    type: Literal["target-date"]
    links: Link | None = None
    data: TargetDateData


class BackInStockDelayAction(_Action):
    type: Literal["back-in-stock-delay"]
    links: Link | None = None


# ----------------------------------------------------------------------------- messages


class UtmParam(Strict):
    name: str
    value: str


class _Message(BaseModel):
    # The message parts Tidings stores as sent; unknown keys are the spec's later additions.
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(None, max_length=255)
    id: str | None = None


class FlowEmail(_Message):
    from_email: str | None = Field(None, max_length=255)
    from_label: str | None = Field(None, max_length=255)
    reply_to_email: str | None = Field(None, max_length=255)
    cc_email: str | None = Field(None, max_length=255)
    bcc_email: str | None = Field(None, max_length=255)
    subject_line: str | None = Field(None, max_length=1000)
    preview_text: str | None = Field(None, max_length=1000)
    template_id: str | None = None
    smart_sending_enabled: StrictBool = True
    transactional: StrictBool = False
    add_tracking_params: StrictBool = False
    custom_tracking_params: list[UtmParam] | None = None
    additional_filters: ProfileFilter | None = None


class FlowSms(_Message):
    body: str = Field(max_length=10_000)
    image_id: str | None = None
    dynamic_image: str | None = None
    shorten_links: StrictBool = True
    include_contact_card: StrictBool = False
    add_org_prefix: StrictBool = True
    add_info_link: StrictBool = True
    add_opt_out_language: StrictBool = False
    smart_sending_enabled: StrictBool = True
    sms_quiet_hours_enabled: StrictBool = True
    transactional: StrictBool = False
    add_tracking_params: StrictBool = False
    custom_tracking_params: list[UtmParam] | None = None
    template_id: str | None = None
    additional_filters: ProfileFilter | None = None


class FlowPush(_Message):
    title: str | None = Field(None, max_length=1000)
    body: str = Field(max_length=10_000)
    sound: StrictBool = False
    badge: StrictBool = False
    badge_options: dict[str, Any] | None = None
    image_id: str | None = None
    dynamic_image: str | None = None
    on_open: Literal["home", "link", "open_url"] = "home"
    ios_link: str | None = None
    android_link: str | None = None
    web_url: str | None = None
    push_type: Literal["silent", "standard"] | None = None
    kv_pairs: dict[str, Any] | None = None
    conversion_metric_id: str | None = None
    smart_sending_enabled: StrictBool = True
    additional_filters: ProfileFilter | None = None
    action_buttons: list[dict[str, Any]] | None = None


def _check_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("https://", "http://")):
        raise ValueError("a webhook URL starts with https:// (or http://)")
    return value


class FlowWebhook(_Message):
    url: Annotated[str | None, AfterValidator(_check_url)] = Field(max_length=2048)
    headers: dict[str, str] | None = None
    body: str | None = Field(None, max_length=100_000)  # a template, rendered per run


class FlowInternalAlert(_Message):
    from_email: str | None = Field(max_length=255)
    from_label: str | None = Field(max_length=255)
    to_emails: list[str] = Field(min_length=1, max_length=50)
    subject_line: str | None = Field(max_length=1000)
    template_id: str | None = None


class SendEmailData(Strict):
    message: FlowEmail | None = None
    status: Status = "draft"


class SendEmailAction(_Action):
    type: Literal["send-email"]
    links: Link | None = None
    data: SendEmailData | None = None


class SendSmsData(Strict):
    message: FlowSms | None = None
    status: Status = "draft"


class SendSmsAction(_Action):
    type: Literal["send-sms"]
    links: Link | None = None
    data: SendSmsData | None = None


class SendPushData(Strict):
    message: FlowPush | None = None
    status: Status = "draft"


class SendPushAction(_Action):
    type: Literal["send-mobile-push"]
    links: Link | None = None
    data: SendPushData | None = None


class SendWebhookData(Strict):
    message: FlowWebhook
    status: Status = "draft"


class SendWebhookAction(_Action):
    type: Literal["send-webhook"]
    links: Link | None = None
    data: SendWebhookData


class SendInternalAlertData(Strict):
    message: FlowInternalAlert
    status: Status = "draft"


class SendInternalAlertAction(_Action):
    type: Literal["send-internal-alert"]
    links: Link | None = None
    data: SendInternalAlertData


# ------------------------------------------------------------------------------- splits


class ConditionalSplitData(Strict):
    profile_filter: ProfileFilter | None


class ConditionalSplitAction(_Action):
    type: Literal["conditional-split"]
    links: BooleanLinks | None = None
    data: ConditionalSplitData | None = None


class TriggerSplitData(Strict):
    trigger_filter: SplitTriggerFilter | None
    trigger_id: str
    trigger_type: Literal["date", "list", "low-inventory", "metric", "price-drop", "scheduled", "segment"]
    trigger_subtype: (
        Literal["custom-object", "legacy-custom-object", "profile-property", "profile-trait"] | None
    ) = None


class TriggerSplitAction(_Action):
    type: Literal["trigger-split"]
    links: BooleanLinks | None = None
    data: TriggerSplitData | None = None


class Branch(Strict):
    branch_id: str | None = None  # given by Tidings when absent
    order: StrictInt | None = None
    is_else: StrictBool = False
    branch_filter: BranchFilter | None = None
    links: Link | None = None
    name: str | None = Field(None, max_length=255)


class MultiBranchSplitData(Strict):
    branches: list[Branch] = Field(max_length=50)
    name: str = Field(max_length=255)


class MultiBranchSplitAction(_Action):
    type: Literal["multi-branch-split"]
    links: None = None
    data: MultiBranchSplitData | None = None

    def edges(self) -> list[tuple[str, str, str | None]]:
        branches = self.data.branches if self.data else []
        return [
            (
                f"branch:{b.branch_id or i}",
                f"/data/branches/{i}/links/next",
                b.links.next if b.links else None,
            )
            for i, b in enumerate(branches)
        ]


class Experiment(Strict):
    id: str | None = None
    name: str | None = None
    variations: list[SendEmailAction | SendSmsAction] = Field(max_length=10)
    allocations: dict[str, Number] | None = None
    started: str | None = None
    winner_metric: str | None = None
    automatic_winner_selection_settings: dict[str, Any] | None = None


class AbTestData(Strict):
    status: Status = "draft"
    experiment_status: Literal["completed", "draft", "live"] = "draft"
    main_action: Annotated[SendEmailAction | SendSmsAction, Field(discriminator="type")]
    current_experiment: Experiment | None = None


class AbTestAction(_Action):
    type: Literal["ab-test"]
    links: Link | None = None
    data: AbTestData


# ------------------------------------------------------------------------- profile changes


class SetProperty(Strict):
    operator: Literal["create", "update"]
    property_type: Literal["string", "boolean", "numeric", "date", "list"]
    property_key: str = Field(min_length=1, max_length=255)
    property_value: str | Number | StrictBool
    property_operation: Literal["add", "remove"] | None = None


class DeleteProperty(Strict):
    operator: Literal["delete"]
    property_key: str = Field(min_length=1, max_length=255)


ProfileOperation = Annotated[SetProperty | DeleteProperty, Field(discriminator="operator")]


class UpdateProfileData(Strict):
    profile_operations: list[ProfileOperation] = Field(min_length=1, max_length=100)
    status: Status = "draft"


class UpdateProfileAction(_Action):
    type: Literal["update-profile"]
    links: Link | None = None
    data: UpdateProfileData | None = None


class ListUpdateData(Strict):
    name: str = Field(max_length=255)
    on_execution: StrictBool | None  # true adds to the list, false removes (INF, docs/COMPATIBILITY.md)
    list_id: str | None
    status: Status = "draft"


class ListUpdateAction(_Action):
    type: Literal["list-update"]
    links: Link | None = None
    data: ListUpdateData


# ---------------------------------------------------------------------------- refused types


class RefusedAction(_Action):
    """A type of the spec Tidings does not run; refused at its pointer with the reason."""

    model_config = ConfigDict(extra="allow")
    type: Literal["code", "send-whatsapp", "internal-service", "action-output-split", "content-experiment"]

    def edges(self) -> list[tuple[str, str, str | None]]:
        links = getattr(self, "links", None)
        if not isinstance(links, dict):
            return []
        return [(n, f"/links/{n}", t) for n, t in links.items() if t is None or isinstance(t, str)]


REFUSALS = {
    "code": "Code actions run customer code on Klaviyo's servers; Tidings does not run customer code.",
    "send-whatsapp": "WhatsApp needs a Meta Business account and provider; Tidings has no WhatsApp channel.",
    "internal-service": "Internal-service actions call Klaviyo's own services, which Tidings does not have.",
    "action-output-split": "Action-output splits branch on a code action's output; code actions are not run.",
    "content-experiment": "Content experiments are for WhatsApp and push A/B tests; use an ab-test action.",
}

Action = Annotated[
    TimeDelayAction
    | CountdownDelayAction
    | TargetDateAction
    | BackInStockDelayAction
    | SendEmailAction
    | SendSmsAction
    | SendPushAction
    | SendWebhookAction
    | SendInternalAlertAction
    | ConditionalSplitAction
    | TriggerSplitAction
    | MultiBranchSplitAction
    | AbTestAction
    | UpdateProfileAction
    | ListUpdateAction
    | RefusedAction,
    Field(discriminator="type"),
]

ACTION_TYPES = {
    "time-delay",
    "countdown-delay",
    "target-date",
    "back-in-stock-delay",
    "send-email",
    "send-sms",
    "send-mobile-push",
    "send-webhook",
    "send-internal-alert",
    "conditional-split",
    "trigger-split",
    "multi-branch-split",
    "ab-test",
    "update-profile",
    "list-update",
    *REFUSALS,
}
# Actions that carry a message (one flow-message each), with the message's channel.
MESSAGE_CHANNELS = {
    "send-email": "email",
    "send-sms": "sms",
    "send-mobile-push": "push",
    "send-webhook": "webhook",
    "send-internal-alert": "internal_alert",
}
