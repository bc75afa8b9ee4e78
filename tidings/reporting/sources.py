"""What a report is about: the ledger rows of one kind of source, and what they are grouped by.

A report counts the delivery ledger's rows (tidings.delivery.tables.MessageSend) of one source
kind: campaign messages for the campaign reports, flow actions for the flow reports. The
computation (repository.py) is the same for every kind; a `Source` says which rows it covers and
gives each of Klaviyo's grouping attributes as an SQL expression over a ledger row (and the
tables it joins). Flow rows name their flow message by their source id (and the `$message` their
events carry), their flow by `$flow` or the message's flow; names come from the flow tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, literal
from sqlalchemy.orm import Session
from sqlalchemy.sql import FromClause

from tidings.campaigns.tables import CampaignMessage, CampaignVariation
from tidings.db.dialect import json_text
from tidings.delivery.tables import MessageSend, SourceKind
from tidings.flows.tables import Flow, FlowMessage

SENDS = MessageSend.__table__
MESSAGES = CampaignMessage.__table__
VARIATIONS = CampaignVariation.__table__
FLOW_MESSAGES = FlowMessage.__table__
FLOWS_TABLE = Flow.__table__

# Klaviyo's names for the channels (the values of `send_channel`, in groupings and filters).
SEND_CHANNELS = {"email": "email", "sms": "sms", "push": "push-notification"}
KNOWN_CHANNELS = ("email", "sms", "push-notification", "whatsapp")

# Groupings and filters the spec names that need something Tidings does not keep yet: tags
# (no tags domain), campaign groups and the SMS/MMS format.
UNSUPPORTED = ("group", "group_name", "tag_id", "tag_name", "text_message_format")

Columns = dict[str, Any]


@dataclass(frozen=True)
class Source:
    kind: str
    resource: str  # the report's type: campaign-values-report, flow-values-report ...
    default_group_by: tuple[str, ...]
    required_group_by: tuple[str, ...]
    scalar_filters: tuple[str, ...]
    # The grouping attributes as SQL over the ledger row, and what joins them to a FROM clause
    # that holds the ledger table (outer joins to the source's own tables).
    columns: Callable[[Session], tuple[Columns, Callable[[FromClause], FromClause]]]


def send_channel() -> Any:
    return case(
        *[(SENDS.c.channel == ours, literal(theirs)) for ours, theirs in SEND_CHANNELS.items()],
        else_=SENDS.c.channel,
    )


def message_key(session: Session, sends: Any = SENDS) -> Any:
    """The message a row delivers, as its events name it (`$message`); a row not rendered yet
    has no context, and its source id is the message (campaigns: the campaign message)."""
    return func.coalesce(json_text(session, sends.c.context, "$message"), sends.c.source_id)


def sent_at(sends: Any = SENDS) -> Any:
    """When a row went out: its outcome's time, else its last claim, else its planned time."""
    return func.coalesce(sends.c.finished_at, sends.c.sending_at, sends.c.planned_for)


def _campaign_messages(base: FromClause) -> FromClause:
    return base.outerjoin(
        MESSAGES, and_(MESSAGES.c.account_id == SENDS.c.account_id, MESSAGES.c.id == SENDS.c.source_id)
    )


def _campaign_columns(session: Session) -> tuple[Columns, Callable[[FromClause], FromClause]]:
    columns: Columns = {
        "campaign_id": MESSAGES.c.campaign_id,
        "campaign_message_id": SENDS.c.source_id,
        "campaign_message_name": MESSAGES.c.label,
        "send_channel": send_channel(),
        "variation": func.coalesce(json_text(session, SENDS.c.context, "$variation"), SENDS.c.source_id),
        # A message is its own default variation; an A/B test's others have their own names.
        "variation_name": func.coalesce(VARIATIONS.c.name, MESSAGES.c.label),
    }

    def joined(base: FromClause) -> FromClause:
        variation = json_text(session, SENDS.c.context, "$variation")
        return _campaign_messages(base).outerjoin(
            VARIATIONS, and_(VARIATIONS.c.account_id == SENDS.c.account_id, VARIATIONS.c.id == variation)
        )

    return columns, joined


def _flow_messages(base: FromClause) -> FromClause:
    """A flow row's message (its source id) and flow, for their names (outer: either may be gone)."""
    return base.outerjoin(
        FLOW_MESSAGES,
        and_(FLOW_MESSAGES.c.account_id == SENDS.c.account_id, FLOW_MESSAGES.c.id == SENDS.c.source_id),
    ).outerjoin(
        FLOWS_TABLE,
        and_(
            FLOWS_TABLE.c.account_id == FLOW_MESSAGES.c.account_id,
            FLOWS_TABLE.c.id == FLOW_MESSAGES.c.flow_id,
        ),
    )


def _flow_columns(session: Session) -> tuple[Columns, Callable[[FromClause], FromClause]]:
    columns: Columns = {
        "flow_id": func.coalesce(json_text(session, SENDS.c.context, "$flow"), FLOW_MESSAGES.c.flow_id),
        "flow_message_id": message_key(session),
        "flow_message_name": FLOW_MESSAGES.c.name,
        "flow_name": FLOWS_TABLE.c.name,
        "send_channel": send_channel(),
        "variation": func.coalesce(json_text(session, SENDS.c.context, "$variation"), SENDS.c.source_id),
        "variation_name": FLOW_MESSAGES.c.name,
    }
    return columns, _flow_messages


CAMPAIGNS = Source(
    kind=SourceKind.CAMPAIGN_MESSAGE.value,
    resource="campaign-values-report",
    default_group_by=("campaign_id", "campaign_message_id", "send_channel"),
    required_group_by=("campaign_id", "campaign_message_id"),
    scalar_filters=(
        "send_channel",
        "campaign_id",
        "campaign_message_id",
        "campaign_message_name",
        "variation",
        "variation_name",
        "text_message_format",
    ),
    columns=_campaign_columns,
)

FLOWS = Source(
    kind=SourceKind.FLOW_ACTION.value,
    resource="flow-values-report",
    default_group_by=("flow_id", "flow_message_id", "send_channel"),
    required_group_by=("flow_id", "flow_message_id"),
    scalar_filters=(
        "flow_id",
        "flow_name",
        "send_channel",
        "flow_message_id",
        "flow_message_name",
        "text_message_format",
        "variation",
        "variation_name",
    ),
    columns=_flow_columns,
)
