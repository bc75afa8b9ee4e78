"""What each action does to a group of runs at it (one flow, one action), set-wise.

`execute` answers, per run, where it goes (`Move`): the next action, a wait, or an exit. Filters
are one query per group (tidings/flows/filters.py); messages are one insert of ledger rows per
group. Messages go through the checks Klaviyo makes before each message, in this order:
the trigger list or segment still holds the person (list and segment flows; else skipped,
"Person No Longer in List"), the flow filter (else the run exits, "Fails Flow Filters"), the
message's additional filters (else skipped), the flow's and the message's status (a draft flow:
"Flow Draft"; a draft message: "Message Draft"; a manual one: "Needs Review", not sent). Then a
ledger row is planned; delivery's gate applies consent, smart sending and quiet hours to it, as
the message's flags say (tidings/flows/resolver.py).

Where to add an action: a function here taking the group and returning its moves, named in
`HANDLERS` by the action's `type`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.accounts.repository import get_account
from tidings.db.dialect import in_values
from tidings.delivery import service as delivery
from tidings.delivery.tables import Channel
from tidings.delivery.transactional import FALLBACK_DOMAIN, message_domain
from tidings.flows import delays, filters, resolver, webhook
from tidings.flows.conditions import BranchFilter, FlowProfileFilter, ProfileFilter, SplitTriggerFilter
from tidings.flows.runtime import Move, Run, Step
from tidings.flows.tables import Flow, FlowAction, FlowMessage
from tidings.jsonapi.errors import APIError, NotFound
from tidings.lists import service as lists
from tidings.lists.tables import ListMember
from tidings.profiles import hooks as profile_hooks
from tidings.profiles.tables import Profile
from tidings.segments.tables import SegmentMember
from tidings.templates.errors import RenderError, TemplateError

Moves = dict[str, Move]
CHANNELS = {"send-email": Channel.EMAIL, "send-sms": Channel.SMS, "send-mobile-push": Channel.PUSH}
NOT_BUILT = {
    "send-internal-alert": "Internal alerts are not sent yet by Tidings",
    "countdown-delay": "Date-triggered flows do not run yet in Tidings",
    "target-date": "Date-triggered flows do not run yet in Tidings",
    "back-in-stock-delay": "Back-in-stock flows do not run yet in Tidings",
}


def _next(action: FlowAction, branch: str = "next") -> str | None:
    links = action.definition.get("links") or {}
    return links.get(branch) if isinstance(links, dict) else None


def _data(action: FlowAction) -> dict[str, Any]:
    data = action.definition.get("data")
    return data if isinstance(data, dict) else {}


def _ids(runs: Sequence[Run]) -> list[str]:
    return [r.id for r in runs]


def flow_filter_passes(session: Session, flow: Flow, runs: Sequence[Run], now: dt.datetime) -> set[str]:
    raw = flow.definition.get("profile_filter")
    parsed = FlowProfileFilter.model_validate(raw) if raw else None
    return filters.passing(session, flow.account_id, flow.id, _ids(runs), parsed, now)


def _onward(runs: Sequence[Run], target: str | None) -> Moves:
    return {r.id: Move.next(target) for r in runs}


# ------------------------------------------------------------------------------ delays


def _time_delay(ctx: Context) -> Moves:
    moves: Moves = {}
    target = _next(ctx.action)
    over = [r for r in ctx.runs if r.status == "waiting"]
    moves.update(_onward(over, target))
    starting = [r for r in ctx.runs if r.status != "waiting"]
    if not starting:
        return moves
    data = _data(ctx.action)
    account = get_account(ctx.session, ctx.flow.account_id)
    account_zone = account.timezone if account is not None else "UTC"
    zones: dict[str, str | None] = {}
    if (data.get("timezone") or "profile") == "profile":
        stmt = select(Profile.id, Profile.location).where(
            Profile.account_id == ctx.flow.account_id,
            in_values(ctx.session, Profile.id, sorted({r.profile_id for r in starting})),
        )
        zones = {pid: (loc or {}).get("timezone") for pid, loc in ctx.session.execute(stmt)}
    for run in starting:
        tz = delays.delay_zone(data, zones.get(run.profile_id), account_zone)
        due = delays.due(data, ctx.now, tz)
        if due <= ctx.now:
            moves[run.id] = Move.next(target)
        else:
            ctx.trace.append(Step(run, ctx.action.id, "waiting", f"until {due.isoformat()}"))
            moves[run.id] = Move.wait(due)
    return moves


def _not_built(ctx: Context) -> Moves:
    reason = NOT_BUILT[ctx.action.action_type]
    if ctx.action.action_type == "send-internal-alert":
        for run in ctx.runs:
            ctx.trace.append(Step(run, ctx.action.id, "skipped", reason))
        return _onward(ctx.runs, _next(ctx.action))
    return {r.id: Move.exit(reason) for r in ctx.runs}


# ------------------------------------------------------------------------------ splits


def _split(ctx: Context, passed: set[str], yes: str | None, no: str | None) -> Moves:
    moves: Moves = {}
    for run in ctx.runs:
        went = run.id in passed
        ctx.trace.append(Step(run, ctx.action.id, "branched", "true" if went else "false"))
        moves[run.id] = Move.next(yes if went else no)
    return moves


def _conditional_split(ctx: Context) -> Moves:
    raw = _data(ctx.action).get("profile_filter")
    parsed = ProfileFilter.model_validate(raw) if raw else None
    passed = ctx.passing(parsed)
    return _split(ctx, passed, _next(ctx.action, "next_if_true"), _next(ctx.action, "next_if_false"))


def _trigger_split(ctx: Context) -> Moves:
    raw = _data(ctx.action).get("trigger_filter")
    parsed = SplitTriggerFilter.model_validate(raw) if raw else None
    passed = ctx.passing(parsed)
    return _split(ctx, passed, _next(ctx.action, "next_if_true"), _next(ctx.action, "next_if_false"))


def _multi_branch_split(ctx: Context) -> Moves:
    branches = list(_data(ctx.action).get("branches") or [])
    branches.sort(key=lambda b: (bool(b.get("is_else")), b.get("order") if b.get("order") is not None else 0))
    left = list(ctx.runs)
    moves: Moves = {}
    for branch in branches:
        if not left:
            break
        target = (branch.get("links") or {}).get("next")
        name = str(branch.get("name") or branch.get("branch_id"))
        raw = branch.get("branch_filter")
        if branch.get("is_else") or not raw:
            chosen = left
        else:
            passed = filters.passing(
                ctx.session,
                ctx.flow.account_id,
                ctx.flow.id,
                _ids(left),
                BranchFilter.model_validate(raw),
                ctx.now,
            )
            chosen = [r for r in left if r.id in passed]
        for run in chosen:
            ctx.trace.append(Step(run, ctx.action.id, "branched", name))
            moves[run.id] = Move.next(target)
        left = [r for r in left if r.id not in moves]
    for run in left:  # no branch and no else: the path ends
        ctx.trace.append(Step(run, ctx.action.id, "branched", "no branch matched"))
        moves[run.id] = Move.complete()
    return moves


# ---------------------------------------------------------------------------- messages


def _message_checks(ctx: Context, status: str, additional: Any) -> tuple[list[Run], Moves]:
    """The checks before a message, in order; returns the runs that send, and the others' moves."""
    target = _next(ctx.action)
    moves: Moves = {}
    runs = list(ctx.runs)

    def skip(these: Sequence[Run], reason: str) -> None:
        for run in these:
            ctx.trace.append(Step(run, ctx.action.id, "skipped", reason))
            moves[run.id] = Move.next(target)

    if ctx.flow.trigger_kind in ("list", "segment") and runs:
        members = _still_members(ctx, runs)
        skip([r for r in runs if r.profile_id not in members], delivery.SkipReason.NO_LONGER_IN_LIST.value)
        runs = [r for r in runs if r.profile_id in members]
    if runs:
        ok = flow_filter_passes(ctx.session, ctx.flow, runs, ctx.now)
        for run in runs:
            if run.id not in ok:
                moves[run.id] = Move.exit(delivery.SkipReason.FAILS_FLOW_FILTERS.value)
        runs = [r for r in runs if r.id in ok]
    if runs and additional:
        ok = ctx.passing(ProfileFilter.model_validate(additional), runs)
        skip([r for r in runs if r.id not in ok], delivery.SkipReason.FAILS_ADDITIONAL_FILTERS.value)
        runs = [r for r in runs if r.id in ok]
    if runs and ctx.flow.status == "draft":
        skip(runs, delivery.SkipReason.FLOW_DRAFT.value)
        runs = []
    if runs and status != "live":
        reason = {"manual": "Needs Review", "draft": delivery.SkipReason.MESSAGE_DRAFT.value}.get(
            status, "Message Disabled"
        )
        skip(runs, reason)
        runs = []
    return runs, moves


def _still_members(ctx: Context, runs: Sequence[Run]) -> set[str]:
    table: Any = ListMember if ctx.flow.trigger_kind == "list" else SegmentMember
    group = table.list_id if ctx.flow.trigger_kind == "list" else table.segment_id
    stmt = select(table.profile_id).where(
        table.account_id == ctx.flow.account_id,
        group == ctx.flow.trigger_ref,
        in_values(ctx.session, table.profile_id, sorted({r.profile_id for r in runs})),
    )
    return set(ctx.session.execute(stmt).scalars())


def _plan(ctx: Context, channel: Channel, chosen: dict[str, list[Run]]) -> None:
    """Ledger rows for the runs, by the flow message each gets; traces each with its send id."""
    by_id = {m.id: m for m in ctx.messages}
    sends: list[delivery.FlowSend] = []
    for message_id, runs in chosen.items():
        definition = resolver.resolve(ctx.session, ctx.flow.account_id, message_id)
        domain = FALLBACK_DOMAIN
        if definition is not None:
            domain = message_domain(
                ctx.session, ctx.flow.account_id, definition, f"tidings@{FALLBACK_DOMAIN}"
            )
        assert message_id in by_id
        for run in runs:
            source = delivery.FlowActionSource(ctx.action.id, run.id, run.visit)
            sends.append(delivery.FlowSend(source, run.profile_id, channel, message_id, domain, run.event_id))
    planned = delivery.plan_flow_sends(ctx.session, ctx.flow.account_id, sends, now=ctx.now)
    runs_by_id = {r.id: r for r in ctx.runs}
    for item in sends:
        run = runs_by_id[item.source.run_id]
        send_id = planned.get(delivery.idempotency_key(item.source, item.profile_id))
        ctx.trace.append(
            Step(run, ctx.action.id, "sent", f"planned in the ledger ({channel.value})", send_id)
        )


def _slot_message(ctx: Context, slot: str) -> FlowMessage | None:
    return next((m for m in ctx.messages if m.slot == slot), None)


def _send(ctx: Context) -> Moves:
    data = _data(ctx.action)
    message = data.get("message") or {}
    runs, moves = _message_checks(ctx, ctx.action.status, message.get("additional_filters"))
    flow_message = _slot_message(ctx, "message")
    if runs and flow_message is None:
        for run in runs:
            ctx.trace.append(Step(run, ctx.action.id, "skipped", "The action has no message"))
    elif runs and flow_message is not None:
        _plan(ctx, CHANNELS[ctx.action.action_type], {flow_message.id: runs})
    moves.update(_onward(runs, _next(ctx.action)))
    return moves


def _ab_test(ctx: Context) -> Moves:
    """A deterministic assignment (a hash of the run and the action) among the main message and
    the experiment's variations, by their allocations (equal shares when none are given)."""
    data = _data(ctx.action)
    main = data.get("main_action") or {}
    experiment = data.get("current_experiment") or {}
    variations = experiment.get("variations") or []
    options: list[tuple[str, float]] = [("main:message", 1.0)]
    if data.get("experiment_status") == "live" and variations:
        allocations = experiment.get("allocations") or {}
        options = []
        for index, variation in enumerate([main, *variations]):
            slot = "main:message" if index == 0 else f"variation:{index - 1}:message"
            message = (variation.get("data") or {}).get("message") or {}
            weight = allocations.get(str(message.get("id")), allocations.get(str(variation.get("id")), None))
            options.append((slot, float(weight) if weight is not None else 1.0))
    channel = CHANNELS.get(str(main.get("type")), Channel.EMAIL)
    additional = ((main.get("data") or {}).get("message") or {}).get("additional_filters")
    runs, moves = _message_checks(ctx, ctx.action.status, additional)
    total = sum(w for _, w in options) or 1.0
    chosen: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        point = int.from_bytes(hashlib.sha256(f"{ctx.action.id}:{run.id}".encode()).digest()[:4], "big")
        share = point / 2**32 * total
        slot = options[-1][0]
        for name, weight in options:
            if share < weight:
                slot = name
                break
            share -= weight
        message = _slot_message(ctx, slot) or _slot_message(ctx, "main:message")
        if message is None:
            ctx.trace.append(Step(run, ctx.action.id, "skipped", "The action has no message"))
            continue
        chosen[message.id].append(run)
    if chosen:
        _plan(ctx, channel, dict(chosen))
    moves.update(_onward(runs, _next(ctx.action)))
    return moves


def _send_webhook(ctx: Context) -> Moves:
    """Checked as a message is; the request is rendered now and made by a durable job."""
    runs, moves = _message_checks(ctx, ctx.action.status, None)
    if runs:
        renderer = webhook.Renderer(ctx.session, ctx.flow.account_id)
        source = str(resolver.message_document(ctx.action.definition, "message").get("body") or "")
        for run in runs:
            try:
                body = renderer.body(run, source)
            except (TemplateError, RenderError, webhook.WebhookFailed, NotFound) as error:
                ctx.trace.append(Step(run, ctx.action.id, "skipped", f"Webhook body not rendered: {error}"))
                continue
            webhook.enqueue_webhook(ctx.session, ctx.action, run, body)
            ctx.trace.append(Step(run, ctx.action.id, "sent", "webhook queued"))
    moves.update(_onward(runs, _next(ctx.action)))
    return moves


# ----------------------------------------------------------------------- profile changes


def _status_skip(ctx: Context) -> Moves | None:
    if ctx.action.status == "live" and ctx.flow.status != "draft":
        return None
    reason = "Flow Draft" if ctx.flow.status == "draft" else f"Action {ctx.action.status}"
    for run in ctx.runs:
        ctx.trace.append(Step(run, ctx.action.id, "skipped", reason))
    return _onward(ctx.runs, _next(ctx.action))


def _update_profile(ctx: Context) -> Moves:
    skipped = _status_skip(ctx)
    if skipped is not None:
        return skipped
    operations = _data(ctx.action).get("profile_operations") or []
    ids = sorted({r.profile_id for r in ctx.runs})
    stmt = select(Profile).where(Profile.account_id == ctx.flow.account_id, Profile.id.in_(ids))
    today = ctx.now.date().isoformat()
    for profile in ctx.session.execute(stmt).scalars():
        properties = dict(profile.properties or {})
        for op in operations:
            key = op["property_key"]
            if op["operator"] == "delete":
                properties.pop(key, None)
                continue
            value = op.get("property_value")
            if op.get("property_type") == "date" and value == "today":
                value = today
            if op.get("property_type") == "list":
                current = properties.get(key)
                items = list(current) if isinstance(current, list) else []
                if op.get("property_operation") == "remove":
                    items = [i for i in items if i != value]
                elif value not in items:
                    items.append(value)
                value = items
            properties[key] = value
        profile.properties = properties
        profile.updated = ctx.now
    profile_hooks.notify(ctx.session, ctx.flow.account_id, ids, "profile")
    for run in ctx.runs:
        ctx.trace.append(Step(run, ctx.action.id, "updated", f"{len(operations)} profile operation(s)"))
    return _onward(ctx.runs, _next(ctx.action))


def _list_update(ctx: Context) -> Moves:
    skipped = _status_skip(ctx)
    if skipped is not None:
        return skipped
    data = _data(ctx.action)
    list_id, adding = data.get("list_id"), data.get("on_execution") is not False
    ids = sorted({r.profile_id for r in ctx.runs})
    reason = f"{'added to' if adding else 'removed from'} list {list_id}"
    outcome = "updated"
    try:
        if adding:
            lists.add_profiles(ctx.session, ctx.flow.account_id, str(list_id), ids)
        else:
            lists.remove_profiles(ctx.session, ctx.flow.account_id, str(list_id), ids)
    except APIError as error:
        outcome, reason = "skipped", f"List update failed: {error}"
    for run in ctx.runs:
        ctx.trace.append(Step(run, ctx.action.id, outcome, reason))
    return _onward(ctx.runs, _next(ctx.action))


# ------------------------------------------------------------------------------ dispatch


class Context:
    """One group: a flow, one of its actions, the runs at it, the clock, the trace."""

    def __init__(
        self,
        session: Session,
        flow: Flow,
        action: FlowAction,
        messages: list[FlowMessage],
        runs: list[Run],
        now: dt.datetime,
        trace: list[Step],
    ) -> None:
        self.session, self.flow, self.action, self.messages = session, flow, action, messages
        self.runs, self.now, self.trace = runs, now, trace

    def passing(self, parsed: Any, runs: Sequence[Run] | None = None) -> set[str]:
        these = self.runs if runs is None else runs
        if parsed is None:
            return set(_ids(these))
        return filters.passing(
            self.session, self.flow.account_id, self.flow.id, _ids(these), parsed, self.now
        )


HANDLERS: dict[str, Callable[[Context], Moves]] = {
    "time-delay": _time_delay,
    "send-email": _send,
    "send-sms": _send,
    "send-mobile-push": _send,
    "ab-test": _ab_test,
    "conditional-split": _conditional_split,
    "trigger-split": _trigger_split,
    "multi-branch-split": _multi_branch_split,
    "update-profile": _update_profile,
    "list-update": _list_update,
    "send-webhook": _send_webhook,
    **dict.fromkeys(NOT_BUILT, _not_built),
}


def execute(
    session: Session,
    flow: Flow,
    action: FlowAction,
    messages: list[FlowMessage],
    runs: list[Run],
    now: dt.datetime,
    trace: list[Step],
) -> Moves:
    handler = HANDLERS.get(action.action_type)
    if handler is None:
        return {r.id: Move.exit(f"Action type {action.action_type!r} is not run") for r in runs}
    return handler(Context(session, flow, action, messages, runs, now, trace))
