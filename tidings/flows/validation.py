"""What a flow definition must satisfy beyond its shape: the graph (graph.py), the rules of each
action and trigger, and the account's lists, segments, metrics and templates it names.

Problems of the definition itself are 400s; a named list, segment, metric or template that
the account does not have (another account's included) is a 404. Every problem carries the
JSON pointer of its value, and all of them are reported at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tidings.flows import graph, repository
from tidings.flows.actions import (
    REFUSALS,
    AbTestAction,
    BackInStockDelayAction,
    ConditionalSplitAction,
    CountdownDelayAction,
    ListUpdateAction,
    MultiBranchSplitAction,
    RefusedAction,
    SendEmailAction,
    SendInternalAlertAction,
    SendPushAction,
    SendSmsAction,
    SetProperty,
    TargetDateAction,
    TimeDelayAction,
    TriggerSplitAction,
    UpdateProfileAction,
)
from tidings.flows.conditions import CustomObjectCondition, CustomObjectTriggerCondition
from tidings.flows.definition import DateTrigger, FlowDefinition, MetricTrigger
from tidings.inference import parse_date
from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput, NotFound
from tidings.segments.sql import profile_property_problem

# A delay is at least a minute and at most a year (Klaviyo's editor allows no zero delay; a
# wait of years is a mistake, not a plan: Vero caps delays at 365 days, Shopify Flow at 90).
MAX_DELAY_MINUTES = 365 * 24 * 60
UNIT_MINUTES = {"minutes": 1, "hours": 60, "days": 24 * 60, "weeks": 7 * 24 * 60, "months": 31 * 24 * 60}
SECONDARY_UNIT = {"days": "hours", "hours": "minutes", "minutes": "minutes"}

CUSTOM_OBJECTS = (
    "Custom objects are not part of Tidings (Klaviyo's custom objects come from its data "
    "warehouse integrations), so nothing can trigger on or filter by one."
)


@dataclass
class References:
    """What the definition names in the account, with the pointers that name it."""

    lists: list[tuple[str, str]] = field(default_factory=list)
    segments: list[tuple[str, str]] = field(default_factory=list)
    groups: list[tuple[str, str]] = field(default_factory=list)  # a list or a segment
    metrics: list[tuple[str, str]] = field(default_factory=list)
    templates: list[tuple[str, str]] = field(default_factory=list)


def action_key(action: Any) -> str | None:
    return action.temporary_id if action.temporary_id is not None else action.id


def validate(
    session: Session,
    account_id: str,
    definition: FlowDefinition,
    base: str,
    *,
    known_templates: frozenset[str] = frozenset(),
) -> None:
    """Raise every problem of `definition` (at `base`). `known_templates`: template ids that are
    already this flow's copies (an edited action keeps its message's template)."""
    problems: list[APIError] = []
    refs = References()
    trigger = definition.triggers[0] if definition.triggers else None
    _check_trigger(trigger, base, problems, refs)
    if definition.profile_filter is not None:
        _check_conditions(definition.profile_filter, f"{base}/profile_filter", problems, refs)
    keys: list[str] = []
    edges: dict[str, list[graph.Edge]] = {}
    pointers: dict[str, str] = {}
    for index, action in enumerate(definition.actions):
        where = f"{base}/actions/{index}"
        key = action_key(action)
        if key is None:
            problems.append(
                InvalidInput("A new action needs a temporary_id.", pointer=f"{where}/temporary_id")
            )
            continue
        if key in pointers:
            problems.append(
                InvalidInput(f"Two actions have the id {key!r}.", pointer=f"{where}/temporary_id")
            )
            continue
        keys.append(key)
        pointers[key] = where
        edges[key] = [
            graph.Edge(key, f"{where}{pointer}", target) for _name, pointer, target in action.edges()
        ]
        _check_action(action, trigger, where, problems, refs)
    for problem in graph.check(
        keys,
        edges,
        definition.entry_action_id,
        entry_pointer=f"{base}/entry_action_id",
        action_pointers=pointers,
    ):
        problems.append(InvalidInput(problem.message, pointer=problem.pointer))
    if problems:
        raise ErrorList(problems)
    missing = _missing(session, account_id, refs, known_templates)
    if missing:
        raise ErrorList(missing)


# --------------------------------------------------------------------------- triggers


def _check_trigger(trigger: Any, base: str, problems: list[APIError], refs: References) -> None:
    where = f"{base}/triggers/0"
    if trigger is None:
        return
    if trigger.type == "list":
        refs.lists.append((f"{where}/id", trigger.id))
    elif trigger.type == "segment":
        refs.segments.append((f"{where}/id", trigger.id))
    elif isinstance(trigger, MetricTrigger):
        refs.metrics.append((f"{where}/id", trigger.id))
        if trigger.trigger_filter is not None:
            for g, group in enumerate(trigger.trigger_filter.condition_groups):
                for c, cond in enumerate(group.conditions):
                    at = f"{where}/trigger_filter/condition_groups/{g}/conditions/{c}"
                    if cond.metric_id != trigger.id:
                        problems.append(
                            InvalidInput(
                                "A trigger filter filters the triggering metric's events: its metric_id "
                                f"must be the trigger's ({trigger.id}).",
                                pointer=f"{at}/metric_id",
                            )
                        )
    elif isinstance(trigger, DateTrigger):
        if trigger.date_field_type == "custom-object":
            problems.append(
                InvalidInput(
                    f"A custom-object date trigger is not supported: {CUSTOM_OBJECTS}",
                    pointer=f"{where}/date_field_type",
                )
            )
            return
        for name in ("date_profile_property", "timedelta_value_before_date", "trigger_time"):
            if getattr(trigger, name) is None:
                problems.append(
                    InvalidInput(
                        f"'{name}' is a required field of a profile date trigger.", pointer=f"{where}/{name}"
                    )
                )


# ------------------------------------------------------------------------- conditions


def _conditions(filter_: Any, where: str) -> Iterator[tuple[str, Any]]:
    for g, group in enumerate(filter_.condition_groups):
        for c, cond in enumerate(group.conditions):
            yield f"{where}/condition_groups/{g}/conditions/{c}", cond


def _check_conditions(filter_: Any, where: str, problems: list[APIError], refs: References) -> None:
    for at, cond in _conditions(filter_, where):
        if isinstance(cond, CustomObjectCondition | CustomObjectTriggerCondition):
            problems.append(
                InvalidInput(
                    f"Custom-object conditions are not supported: {CUSTOM_OBJECTS}", pointer=f"{at}/type"
                )
            )
        elif cond.type == "profile-property" and (problem := profile_property_problem(cond.property)):
            problems.append(InvalidInput(problem, pointer=f"{at}/property"))
        elif cond.type == "profile-metric" or cond.type == "metric-property":
            refs.metrics.append((f"{at}/metric_id", cond.metric_id))
        elif cond.type == "profile-group-membership":
            refs.groups += [(f"{at}/group_ids/{k}", gid) for k, gid in enumerate(cond.group_ids)]


# ---------------------------------------------------------------------------- actions


def _delay_minutes(unit: str, value: int, secondary: int | None) -> int:
    return value * UNIT_MINUTES[unit] + (secondary or 0) * UNIT_MINUTES[SECONDARY_UNIT[unit]]


def _check_action(action: Any, trigger: Any, where: str, problems: list[APIError], refs: References) -> None:
    kind = trigger.type if trigger is not None else None
    if isinstance(action, RefusedAction):
        problems.append(
            InvalidInput(
                f"'{action.type}' actions are not supported: {REFUSALS[action.type]}", pointer=f"{where}/type"
            )
        )
    elif isinstance(action, TimeDelayAction):
        data = action.data
        minutes = _delay_minutes(data.unit, data.value, data.secondary_value)
        if minutes == 0 and data.delay_until_time is None and not data.delay_until_weekdays:
            problems.append(
                InvalidInput(
                    "A delay of zero waits for nothing: give it a value, a delay_until_time or "
                    "delay_until_weekdays, or remove it.",
                    pointer=f"{where}/data/value",
                )
            )
        elif minutes > MAX_DELAY_MINUTES:
            problems.append(
                InvalidInput(
                    f"A delay is at most 365 days; this one is {minutes // (24 * 60)} days.",
                    pointer=f"{where}/data/value",
                )
            )
    elif isinstance(action, CountdownDelayAction | TargetDateAction):
        if kind != "date":
            problems.append(
                InvalidInput(
                    f"A {action.type} action counts to the date of a date-triggered flow; this flow's "
                    f"trigger is {kind or 'not set'}.",
                    pointer=f"{where}/type",
                )
            )
        if isinstance(action, CountdownDelayAction) and (
            action.data.value * UNIT_MINUTES[action.data.unit] > MAX_DELAY_MINUTES
        ):
            problems.append(InvalidInput("A countdown is at most 365 days.", pointer=f"{where}/data/value"))
    elif isinstance(action, BackInStockDelayAction):
        if kind != "metric":
            problems.append(
                InvalidInput(
                    "A back-in-stock delay waits in a flow triggered by the 'Subscribed to Back in Stock' "
                    "metric.",
                    pointer=f"{where}/type",
                )
            )
    elif isinstance(action, ConditionalSplitAction):
        if action.data is None or action.data.profile_filter is None:
            problems.append(
                InvalidInput(
                    "A conditional split needs its profile_filter.", pointer=f"{where}/data/profile_filter"
                )
            )
        else:
            _check_conditions(action.data.profile_filter, f"{where}/data/profile_filter", problems, refs)
        if action.links is None:
            problems.append(
                InvalidInput(
                    "A conditional split needs links (next_if_true, next_if_false).", pointer=f"{where}/links"
                )
            )
    elif isinstance(action, TriggerSplitAction):
        _check_trigger_split(action, trigger, where, problems, refs)
    elif isinstance(action, MultiBranchSplitAction):
        _check_branches(action, where, problems, refs)
    elif isinstance(action, SendEmailAction | SendSmsAction | SendPushAction | SendInternalAlertAction):
        _check_message(action, where, problems, refs)
    elif isinstance(action, AbTestAction):
        _check_message(action.data.main_action, f"{where}/data/main_action", problems, refs)
        if action.data.current_experiment is not None:
            variations = action.data.current_experiment.variations
            if not variations:
                problems.append(
                    InvalidInput(
                        "An A/B test needs at least one variation.",
                        pointer=f"{where}/data/current_experiment/variations",
                    )
                )
            for i, variation in enumerate(variations):
                if variation.type != action.data.main_action.type:
                    problems.append(
                        InvalidInput(
                            "A variation is on the main action's channel.",
                            pointer=f"{where}/data/current_experiment/variations/{i}/type",
                        )
                    )
                _check_message(variation, f"{where}/data/current_experiment/variations/{i}", problems, refs)
    elif isinstance(action, UpdateProfileAction):
        _check_profile_update(action, where, problems)
    elif isinstance(action, ListUpdateAction):
        if action.data.list_id is None:
            problems.append(InvalidInput("A list update names its list.", pointer=f"{where}/data/list_id"))
        else:
            refs.lists.append((f"{where}/data/list_id", action.data.list_id))
        if action.data.on_execution is None:
            problems.append(
                InvalidInput(
                    "on_execution says whether to add (true) or remove (false).",
                    pointer=f"{where}/data/on_execution",
                )
            )


def _check_message(action: Any, where: str, problems: list[APIError], refs: References) -> None:
    message = action.data.message if action.data is not None else None
    if message is None:
        return
    template_id = getattr(message, "template_id", None)
    if template_id is not None:
        refs.templates.append((f"{where}/data/message/template_id", template_id))
    filters = getattr(message, "additional_filters", None)
    if filters is not None:
        _check_conditions(filters, f"{where}/data/message/additional_filters", problems, refs)
    metric_id = getattr(message, "conversion_metric_id", None)
    if metric_id is not None:
        refs.metrics.append((f"{where}/data/message/conversion_metric_id", metric_id))


def _check_trigger_split(
    action: TriggerSplitAction, trigger: Any, where: str, problems: list[APIError], refs: References
) -> None:
    if action.data is None or action.data.trigger_filter is None:
        problems.append(
            InvalidInput("A trigger split needs its trigger_filter.", pointer=f"{where}/data/trigger_filter")
        )
        return
    kind = trigger.type if trigger is not None else None
    if kind not in ("metric", "price-drop", "low-inventory"):
        problems.append(
            InvalidInput(
                "A trigger split filters the triggering event; this flow's trigger has no event "
                f"({kind or 'no trigger'}).",
                pointer=f"{where}/type",
            )
        )
    elif action.data.trigger_type != kind:
        problems.append(
            InvalidInput(
                f"trigger_type must be the flow's trigger type ({kind}).",
                pointer=f"{where}/data/trigger_type",
            )
        )
    elif kind == "metric" and action.data.trigger_id != trigger.id:
        problems.append(
            InvalidInput(
                f"trigger_id must be the flow's trigger metric ({trigger.id}).",
                pointer=f"{where}/data/trigger_id",
            )
        )
    _check_conditions(action.data.trigger_filter, f"{where}/data/trigger_filter", problems, refs)
    if action.links is None:
        problems.append(
            InvalidInput(
                "A trigger split needs links (next_if_true, next_if_false).", pointer=f"{where}/links"
            )
        )


def _check_branches(
    action: MultiBranchSplitAction, where: str, problems: list[APIError], refs: References
) -> None:
    branches = action.data.branches if action.data is not None else []
    if not branches:
        problems.append(
            InvalidInput("A multi-branch split needs at least one branch.", pointer=f"{where}/data/branches")
        )
        return
    elses = [i for i, b in enumerate(branches) if b.is_else]
    if len(elses) > 1:
        problems.append(
            InvalidInput(
                "A split has at most one else branch.", pointer=f"{where}/data/branches/{elses[1]}/is_else"
            )
        )
    if len(elses) == len(branches):
        problems.append(
            InvalidInput(
                "A split needs a branch with a filter besides its else branch.",
                pointer=f"{where}/data/branches",
            )
        )
    seen: set[str] = set()
    for i, branch in enumerate(branches):
        at = f"{where}/data/branches/{i}"
        if branch.branch_id is not None:
            if branch.branch_id in seen:
                problems.append(
                    InvalidInput(f"Two branches have the id {branch.branch_id!r}.", pointer=f"{at}/branch_id")
                )
            seen.add(branch.branch_id)
        if branch.is_else:
            if branch.branch_filter is not None:
                problems.append(
                    InvalidInput("The else branch takes no filter.", pointer=f"{at}/branch_filter")
                )
        elif branch.branch_filter is None:
            problems.append(
                InvalidInput(
                    "A branch that is not the else branch needs its branch_filter.",
                    pointer=f"{at}/branch_filter",
                )
            )
        else:
            _check_conditions(branch.branch_filter, f"{at}/branch_filter", problems, refs)


def _check_profile_update(action: UpdateProfileAction, where: str, problems: list[APIError]) -> None:
    if action.data is None:
        problems.append(
            InvalidInput("An update-profile action needs its profile_operations.", pointer=f"{where}/data")
        )
        return
    for i, op in enumerate(action.data.profile_operations):
        if not isinstance(op, SetProperty):
            continue
        at = f"{where}/data/profile_operations/{i}/property_value"
        value, kind = op.property_value, op.property_type
        wrong = (
            (kind == "string" and not isinstance(value, str))
            or (kind == "list" and not isinstance(value, str))
            or (kind == "boolean" and not isinstance(value, bool))
            or (kind == "numeric" and (isinstance(value, bool) or not isinstance(value, int | float)))
            or (kind == "date" and not (isinstance(value, str) and (value == "today" or parse_date(value))))
        )
        if wrong:
            problems.append(InvalidInput(f"The value is not a {kind} (property_type).", pointer=at))
        if kind == "list" and op.property_operation is None:
            problems.append(
                InvalidInput(
                    "A list property update says add or remove.",
                    pointer=f"{where}/data/profile_operations/{i}/property_operation",
                )
            )


# --------------------------------------------------------------------------- the account


def _missing(
    session: Session, account_id: str, refs: References, known_templates: frozenset[str]
) -> list[APIError]:
    lists = repository.existing_list_ids(session, account_id, [v for _p, v in refs.lists + refs.groups])
    segments = repository.existing_segment_ids(
        session, account_id, [v for _p, v in refs.segments + refs.groups]
    )
    metrics = repository.existing_metric_ids(session, account_id, [v for _p, v in refs.metrics])
    wanted = [v for _p, v in refs.templates if v not in known_templates]
    templates = repository.existing_template_ids(session, account_id, wanted) | known_templates
    errors: list[APIError] = []
    errors += [
        NotFound(f"A list with id {v} does not exist.", pointer=p) for p, v in refs.lists if v not in lists
    ]
    errors += [
        NotFound(f"A segment with id {v} does not exist.", pointer=p)
        for p, v in refs.segments
        if v not in segments
    ]
    errors += [
        NotFound(f"No list or segment has the id {v}.", pointer=p)
        for p, v in refs.groups
        if v not in lists and v not in segments
    ]
    errors += [
        NotFound(f"A metric with id {v} does not exist.", pointer=p)
        for p, v in refs.metrics
        if v not in metrics
    ]
    errors += [
        NotFound(f"A template with id {v} does not exist.", pointer=p)
        for p, v in refs.templates
        if v not in templates
    ]
    return errors
