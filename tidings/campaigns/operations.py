"""The stable campaign operations, widened by what the omni revision (2026-10-15) asks of them.

The Python SDK 25 sends the omni shape's names to the same paths: the `builder` filter, sparse
fieldsets over `definition`, `include=campaign-audiences` and `include=campaign-variations`
(from Klaviyo's beta spec). Both revisions are served by one route, so its operation accepts
the union; the stable names keep their meaning.
"""

from __future__ import annotations

from dataclasses import replace

from tidings.jsonapi.spec import Operation, operation

_SEND_OPTIONS = (
    "is_ignoring_unsubscribes",
    "recipient_percentage",
    "send_strategy",
    "send_time",
    "send_times",
)
_SEND_SETTINGS = (
    "exit_condition_conversion_metric_id",
    "exit_condition_enabled",
    "send_passed_rltz_immediately",
    "send_strategy",
    "send_timezone",
)
_DETAILS = (
    "add_info_link",
    "add_opt_out_language",
    "add_org_prefix",
    "android_deep_link",
    "badge",
    "bcc_email",
    "body",
    "cc_email",
    "channel",
    "from_email",
    "from_label",
    "ios_deep_link",
    "kv_pairs",
    "preview_text",
    "push_type",
    "reply_to_email",
    "shorten_links",
    "sound",
    "subject",
    "template_id",
    "text_message_type",
    "title",
    "web_url",
)

OMNI_FIELDS: dict[str, list[str]] = {
    "campaign": [
        "created_at",
        "updated_at",
        "id",
        "definition",
        *(f"definition.{name}" for name in ("archived", "builder", "color", "description", "name")),
        "definition.send_settings",
        *(f"definition.send_settings.{name}" for name in _SEND_SETTINGS),
    ],
    "campaign-message": [
        "created",
        "updated",
        "id",
        "definition",
        "definition.name",
        "definition.status",
        "definition.send_options",
        *(f"definition.send_options.{name}" for name in (*_SEND_OPTIONS, "throttle_unit", "throttling_type")),
        "definition.tracking_options",
        *(
            f"definition.tracking_options.{name}"
            for name in ("is_add_utm", "is_tracking_clicks", "is_tracking_opens")
        ),
    ],
    "campaign-audience": [
        "created",
        "updated",
        "id",
        "definition",
        *(f"definition.{name}" for name in ("excluded", "included", "name", "priority")),
    ],
    "campaign-variation": [
        "created",
        "updated",
        "id",
        "definition",
        "definition.name",
        "definition.details",
        *(f"definition.details.{name}" for name in _DETAILS),
    ],
}


def widened(
    operation_id: str, *, includes: tuple[str, ...] = (), kinds: tuple[str, ...] = (), builder: bool = False
) -> Operation:
    """The stable operation with the omni names added (`kinds`: the sparse fieldsets it takes)."""
    stable = operation(operation_id)
    fields = dict(stable.fields)
    for kind in kinds:
        fields[kind] = sorted({*fields.get(kind, []), *OMNI_FIELDS[kind]})
    filters = {**stable.filters, "builder": ["equals"]} if builder else stable.filters
    return replace(
        stable, fields=fields, filters=filters, includes=tuple(dict.fromkeys((*stable.includes, *includes)))
    )


CAMPAIGN_KINDS = ("campaign", "campaign-message", "campaign-audience")
MESSAGE_KINDS = ("campaign", "campaign-message", "campaign-variation")

GET_CAMPAIGNS = widened("get_campaigns", includes=("campaign-audiences",), kinds=CAMPAIGN_KINDS, builder=True)
GET_CAMPAIGN = widened("get_campaign", includes=("campaign-audiences",), kinds=CAMPAIGN_KINDS)
CREATE_CAMPAIGN = widened("create_campaign", kinds=("campaign",))
UPDATE_CAMPAIGN = widened("update_campaign", kinds=("campaign",))
CLONE_CAMPAIGN = widened("create_campaign_clone", kinds=("campaign",))
CAMPAIGN_OF_MESSAGE = widened("get_campaign_for_campaign_message", kinds=("campaign",))
GET_MESSAGE = widened("get_campaign_message", includes=("campaign-variations",), kinds=MESSAGE_KINDS)
MESSAGES_OF_CAMPAIGN = widened(
    "get_messages_for_campaign", includes=("campaign-variations",), kinds=MESSAGE_KINDS
)
UPDATE_MESSAGE = widened("update_campaign_message", kinds=("campaign-message",))
ASSIGN_TEMPLATE = widened("assign_template_to_campaign_message", kinds=("campaign-message",))
