"""Every filter, and the tags that loop, kept within the render's budget (limits.py).

Each filter of the template libraries is wrapped (`guard_filters`): the wrapper checks the
deadline before the call and counts the result against the output, item and work limits
after it. That alone bounds a chain of filters, one call at a time; what it cannot stop is a
single call that allocates far more than it is given. So the filters that can do that are
checked *before* they run:

- growth through an argument: `join` (built here, item by item, refusing the result as soon
  as it would pass the output limit), `add`, `concat`, `append` (the sum of the two sizes),
  `ljust` / `rjust` / `center` / `stringformat` (widths and precisions up to 10,000),
  `floatformat` (up to 50 places), `date` / `time` and `{% now %}` (the format's length);
- work piece by piece in Python, one object per character, word, line, tag or list item:
  the input's length is checked against the item limit first (`PIECEWISE_TEXT`,
  `PIECEWISE_LISTS`, `unordered_list`'s nested items, `truncatechars`' reach,
  `{% regroup %}`);
- arguments a filter splits or parses (`yesno:"a,b,..."`, `slice`, `dictsort`, widths) are
  no longer than the item limit either, except where the argument is a value
  (`default`, `add`, `join`, ...).

Nothing is patched in Django: the sandbox's library holds these wrappers instead of Django's
functions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from itertools import groupby
from typing import Any

from django.template import Library, defaultfilters
from django.template.context import Context
from django.template.defaulttags import GroupedResult, NowNode, RegroupNode
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from tidings.templates import limits
from tidings.templates.limits import Budget, RenderLimitExceeded

MAX_FILTER_WIDTH = 10_000  # ljust/rjust/center/stringformat widths and precisions
MAX_FLOAT_PLACES = 50  # floatformat

# Filters that go through their (text) input in Python piece by piece, or build one object
# per piece: given a huge value, one call would run for seconds or allocate gigabytes.
PIECEWISE_TEXT = frozenset(
    {
        "escapejs",
        "format_date_string",
        "iriencode",
        "json_script",
        "linebreaks",
        "linenumbers",
        "phone2numeric",
        "slugify",
        "striptags",
        "title",
        "truncatechars_html",
        "truncatewords",
        "truncatewords_html",
        "urlencode",
        "urlize",
        "urlizetrunc",
        "wordcount",
        "wordwrap",
    }
)
# Filters that work item by item through a list (or the characters of a string).
PIECEWISE_LISTS = frozenset({"compact", "dictsort", "dictsortreversed", "escapeseq", "make_list", "safeseq"})
# Filters whose argument is a value rather than something parsed: its size is checked by
# the filter's own rule (or it is returned as it is).
VALUE_ARGUMENTS = frozenset(
    {"add", "append", "concat", "cut", "default", "default_if_none", "join", "lookup"}
)

_NUMBER = re.compile(r"\d+")


# ---------------------------------------------------------------------------- checks


def _text_length(value: Any) -> int:
    return len(value) if isinstance(value, str) else len(str(value))


def _item_count(value: Any) -> int:
    if isinstance(value, str | list | tuple | dict):
        return len(value)
    return _text_length(value)


def _check_pieces(budget: Budget, what: str, count: int) -> None:
    if count > budget.max_items:
        raise RenderLimitExceeded(
            "item", f"{what} is too long ({count:,} characters or items; item limit: {budget.max_items:,})."
        )


def _check_width(name: str, arg: Any, limit: int) -> None:
    cap = len(str(limit))
    if any(len(n) > cap or int(n) > limit for n in _NUMBER.findall(str(arg))):
        raise RenderLimitExceeded("output", f"The argument of |{name} is too large (at most {limit}).")


def _check_sum(budget: Budget, name: str, value: Any, arg: Any) -> None:
    """`add`/`concat`/`append`: refuse before concatenating what would be too large."""
    if isinstance(value, str) and isinstance(arg, str):
        budget.check_output(len(value) + len(arg), f"The result of |{name}")
    elif isinstance(value, list | tuple) and isinstance(arg, list | tuple):
        budget.check_items(len(value) + len(arg), f"The result of |{name}")


def _nested_items(value: Any, stop: int) -> int:
    """Items of a nested list, as `unordered_list` walks them (counting stops past `stop`)."""
    if not isinstance(value, list | tuple):
        return _item_count(value)
    count, stack = 0, [value]
    while stack and count <= stop:
        for item in stack.pop():
            count += 1
            if isinstance(item, list | tuple):
                stack.append(item)
    return count


def _truncatechars_reach(value: Any, arg: Any) -> int:
    """Characters `truncatechars` loops over in Python: up to the limit, or the whole text."""
    try:
        reach = int(arg)
    except (TypeError, ValueError):
        return 0
    return min(_text_length(value), max(reach, 0))


_KINDS = {
    **dict.fromkeys(PIECEWISE_LISTS, "items"),
    **dict.fromkeys(PIECEWISE_TEXT, "text"),
    "unordered_list": "nested",
    "truncatechars": "reach",
    **dict.fromkeys(("ljust", "rjust", "center", "stringformat"), "width"),
    "floatformat": "places",
    **dict.fromkeys(("add", "concat", "append"), "sum"),
}


def precheck(budget: Budget, name: str, kind: str, value: Any, arg: Any) -> None:
    """The check a filter of this kind needs before it runs (see the module docstring)."""
    what = f"The value given to |{name}"
    if kind == "items":
        _check_pieces(budget, what, _item_count(value))
    elif kind == "text":
        _check_pieces(budget, what, _text_length(value))
    elif kind == "nested":
        _check_pieces(budget, what, _nested_items(value, budget.max_items))
    elif kind == "reach":
        _check_pieces(budget, what, _truncatechars_reach(value, arg))
    elif kind == "width":
        _check_width(name, arg, MAX_FILTER_WIDTH)
    elif kind == "places" and arg is not None:
        _check_width(name, arg, MAX_FLOAT_PLACES)
    elif kind == "sum":
        _check_sum(budget, name, value, arg)


# ---------------------------------------------------------------------------- join


def bounded_join(budget: Budget, value: Any, arg: Any, autoescape: bool = True) -> Any:
    """Django's `join`, refusing a result over the output limit before it is built."""
    if not hasattr(value, "__len__") or not (autoescape or isinstance(arg, str)):
        return defaultfilters.join(value, arg, autoescape=autoescape)  # Django's own failure
    _check_pieces(budget, "The value given to |join", len(value))
    separator = conditional_escape(arg) if autoescape else arg
    what = "The result of |join"
    size = len(separator) * max(len(value) - 1, 0)
    budget.check_output(size, what)
    items: list[str] = []
    for index, item in enumerate(value):
        if autoescape:
            item = conditional_escape(item)
        elif not isinstance(item, str):
            return value  # str.join's TypeError, which Django's join answers with the value
        size += len(item)
        if size > budget.max_output:
            budget.check_output(size, what)
        if not index & 1023:
            budget.check_time()
        items.append(item)
    return mark_safe(separator.join(items))


# ---------------------------------------------------------------------------- wrapping

_REPLACEMENTS: dict[str, Callable[..., Any]] = {"join": bounded_join}


def guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` within the render's budget: checked before (time, size) and counted after."""
    replacement = _REPLACEMENTS.get(name)
    kind = _KINDS.get(name)
    parsed_argument = name not in VALUE_ARGUMENTS
    what = f"The result of |{name}"

    @functools.wraps(func)  # keeps Django's flags (is_safe, ...) and the signature it checks
    def guarded(value: Any, *args: Any, **kwargs: Any) -> Any:
        budget = limits.current()
        if budget is None:  # outside a render (Django's own engine in tests)
            return func(value, *args, **kwargs)
        budget.check_time()
        arg = args[0] if args else None
        if parsed_argument and isinstance(arg, str):
            _check_pieces(budget, f"The argument of |{name}", len(arg))
        if kind is not None:
            precheck(budget, name, kind, value, arg)
        if replacement is not None:
            result = replacement(budget, value, *args, **kwargs)
        else:
            result = func(value, *args, **kwargs)
        budget.charge_value(result, what)
        return result

    return guarded


def guard_filters(library: Library) -> Library:
    """A copy of `library` whose filters are guarded (its tags are shared)."""
    guarded = Library()
    guarded.tags.update(library.tags)
    guarded.filters.update({name: guard_filter(name, func) for name, func in library.filters.items()})
    return guarded


# ---------------------------------------------------------------------------- tags


class GuardedNowNode(NowNode):
    """`{% now %}`: its format is no longer than the item limit (a character can give 30)."""

    def render(self, context: Context) -> str:
        budget = limits.current()
        if budget is not None:
            _check_pieces(budget, "The format of {% now %}", len(self.format_string))
        return str(super().render(context))


class GuardedRegroupNode(RegroupNode):
    """`{% regroup %}`, refusing a list over the item limit (it resolves each item in Python)."""

    def render(self, context: Context) -> str:
        budget = limits.current()
        obj_list = self.target.resolve(context, ignore_failures=True)
        if obj_list is None:
            context[self.var_name] = []
            return ""
        if budget is not None:
            budget.check_time()
            _check_pieces(budget, "The list given to {% regroup %}", _item_count(obj_list))
        context[self.var_name] = [
            GroupedResult(grouper=key, list=list(val))
            for key, val in groupby(obj_list, lambda obj: self.resolve_expression(obj, context))
        ]
        return ""
