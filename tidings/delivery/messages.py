"""What a ledger row sends: the typed definition of a message, by channel.

A row names its source (a campaign message, a flow action, a transactional send); the source's
owner answers its definition through `tidings.delivery.sources` when the row is claimed, so a
message edited while its rows wait is sent as it is at send time (Klaviyo's behaviour), while a
row already rendered keeps its bytes. Template parts are Klaviyo template source (Django's
language), rendered per recipient.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Definition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    transactional: bool = False  # consent for transactional messages; no smart sending, no quiet hours
    smart_sending: bool = True  # skip a profile that received a message on this channel lately
    # The properties of the message's events (Received Email, Opened Email ...): `$message`,
    # `Campaign Name` or `$flow`, `$variation`, ... (Klaviyo's names), from the source.
    context: dict[str, Any] = Field(default_factory=dict)
    # The triggering event's properties, as its message's template sees them (`{{ event.* }}`),
    # when the source hands them over (a flow's resolver, a dry run); None: the row's stored
    # event (`event_id`), if any. Rendered once per row, so a retry sends the same bytes.
    event_properties: dict[str, Any] | None = None


class EmailDefinition(_Definition):
    channel: Literal["email"] = "email"
    template_id: str | None = None  # a stored template, or the parts below
    html: str | None = None
    text: str | None = None
    subject: str = ""
    preview_text: str | None = None
    from_email: str | None = None  # None: the account's default sender, else TIDINGS_DEFAULT_FROM_EMAIL
    from_label: str | None = None
    reply_to_email: str | None = None
    list_id: str | None = None  # the list it is sent to: list suppressions, list-scoped unsubscribe
    track_opens: bool = True
    track_clicks: bool = True
    # UTM parameters on links (tracking settings): the message's own switch (None: the account's
    # auto_add_parameters) and the dynamic values it knows (campaign_name, message_type, ...).
    add_tracking_params: bool | None = None
    utm_values: dict[str, str] = Field(default_factory=dict)


class SmsDefinition(_Definition):
    channel: Literal["sms"] = "sms"
    body: str
    media_url: str | None = None
    quiet_hours: bool = False  # hold it until the recipient's quiet hours end (flows)


class PushDefinition(_Definition):
    channel: Literal["push"] = "push"
    title: str | None = None
    body: str
    data: dict[str, str] = Field(default_factory=dict)
    sound: str | None = None
    badge: int | None = None


MessageDefinition = Annotated[
    EmailDefinition | SmsDefinition | PushDefinition, Field(discriminator="channel")
]


class PushPayload(BaseModel):
    """The content bytes of a push row (JSON): what FCM and APNs are given, rendered."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    body: str
    data: dict[str, str] = Field(default_factory=dict)
    sound: str | None = None
    badge: int | None = None
