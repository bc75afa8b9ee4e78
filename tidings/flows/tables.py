"""Flows, their actions and their messages.

A flow keeps its trigger, profile filter and re-entry rules (`definition`: the definition
without its actions) and, in columns of their own, what is filtered on and what the flow-trigger
relationships of lists, segments and metrics read (`trigger_kind`, `trigger_ref`). Each action
is a row whose `definition` is the action as the spec writes it, with real ids: its links name
the next action's id per branch (null where a path ends), which is what an executor walks.
A message-carrying action has one `flow_messages` row per message (its id is the message's
`id` in the action's definition) with its own copy of the assigned template, as campaigns do.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKeyConstraint, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, JSONType, UTCDateTime, utcnow


class Flow(Base):
    __tablename__ = "flows"
    __table_args__ = (
        ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        Index("ix_flows_account_id_created_at", "account_id", "created_at"),
        Index("ix_flows_account_id_updated_at", "account_id", "updated_at"),
        Index("ix_flows_account_id_name", "account_id", "name"),
        Index("ix_flows_account_id_trigger_kind_trigger_ref", "account_id", "trigger_kind", "trigger_ref"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft, manual, live
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    trigger_type: Mapped[str] = mapped_column(String(40))  # the spec's: Metric, Added to List, ...
    trigger_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)  # list, segment, metric, ...
    trigger_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)  # its list/segment/metric id
    # triggers, profile_filter, entry_action_id (a real id), reentry_criteria
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FlowAction(Base):
    __tablename__ = "flow_actions"
    __table_args__ = (
        ForeignKeyConstraint(["account_id", "flow_id"], ["flows.account_id", "flows.id"], ondelete="CASCADE"),
        Index("ix_flow_actions_account_id_flow_id", "account_id", "flow_id"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(26))
    position: Mapped[int] = mapped_column(Integer)  # order in the definition's actions
    action_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))  # disabled, draft, manual, live
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)  # {id, type, links, data}
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FlowMessage(Base):
    __tablename__ = "flow_messages"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "action_id"], ["flow_actions.account_id", "flow_actions.id"], ondelete="CASCADE"
        ),
        Index("ix_flow_messages_account_id_action_id", "account_id", "action_id"),
        Index("ix_flow_messages_account_id_flow_id", "account_id", "flow_id"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    action_id: Mapped[str] = mapped_column(String(26))
    flow_id: Mapped[str] = mapped_column(String(26))
    # Where the message sits in its action's definition: "message" (data.message), "main"
    # (an A/B test's main action), "variation:N".
    slot: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))  # email, sms, push, webhook, internal_alert
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The assigned template's copy (its own id is what the template relationship names).
    template_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    template_source_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    template_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    template_editor_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    template_html: Mapped[str | None] = mapped_column(Text, nullable=True)
    template_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    template_amp: Mapped[str | None] = mapped_column(Text, nullable=True)
    template_copied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class FlowRun(Base):
    """One profile's way through one flow (a narrow row: position, timer, trace anchor).

    `trigger_key` makes entering idempotent: the triggering event's id for a metric flow (one
    run per event), `L` for a list or segment flow (once per profile, ever). `action_id` is the
    action the run is at (waiting at a delay, or due to execute it); `due_at` is when the
    executor takes it next. `visit` counts the steps taken, so a message's ledger key
    (action, run, visit) is the same on every retry of the same step."""

    __tablename__ = "flow_runs"
    __table_args__ = (
        UniqueConstraint("account_id", "flow_id", "profile_id", "trigger_key"),
        Index("ix_flow_runs_due", "due_at", postgresql_where=text("status IN ('active', 'waiting')")),
        Index("ix_flow_runs_account_id_flow_id_profile_id", "account_id", "flow_id", "profile_id"),
        Index("ix_flow_runs_account_id_profile_id", "account_id", "profile_id"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(26))
    profile_id: Mapped[str] = mapped_column(String(26))
    trigger_kind: Mapped[str] = mapped_column(String(20))  # metric, list, segment
    trigger_key: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(26), nullable=True)  # the triggering event
    status: Mapped[str] = mapped_column(String(12))  # active, completed, exited
    action_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    visit: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    exit_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)


class FlowRunStep(Base):
    """The trace: what happened to a run at each action, and why (append-only)."""

    __tablename__ = "flow_run_steps"
    __table_args__ = (Index("ix_flow_run_steps_account_id_run_id", "account_id", "run_id", "visit"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(26))
    flow_id: Mapped[str] = mapped_column(String(26))
    action_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    visit: Mapped[int] = mapped_column(Integer)
    # entered, waited, sent (planned in the ledger), skipped, branched, updated, exited, completed
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    send_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class FlowEntryCursor(Base):
    """How far a segment-triggered flow has read the segment's change log (a change id)."""

    __tablename__ = "flow_entry_cursors"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    position: Mapped[str] = mapped_column(String(26))
    opened: Mapped[str] = mapped_column(String(26))  # where it started: nothing before enters
