"""The sandbox around Django's template engine: templates are user input.

What it takes away from Django's built-ins: `{% debug %}` (dumps the context and
`sys.modules`), `{% load %}` (only Klaviyo's library, always loaded, exists), `{% extends %}`,
`{% url %}`, `{% querystring %}`, `{% lorem %}` (unbounded output), `{% csrf_token %}`, and the
`pprint` filter. `{% include %}` may only name universal content (`"universal:<id>"`), which the
renderer resolves from the database: there is no template loader, so no file is ever read.

What it bounds: every render runs within a budget (tidings/templates/limits.py): a deadline,
an output limit, an item limit and a work limit, checked each time a node list renders, on
every loop iteration and around every filter call; the filters and tags that could allocate
far more than they are given check their sizes before they run (tidings/templates/bounded.py).

What it hides: context data is frozen into read-only dict and list subclasses, so a template
cannot call `{{ person.clear }}` or `{{ items.pop }}` on the data it was given; Django already
refuses names starting with an underscore, which keeps `__class__` and friends out of reach.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.template import Library, Node, NodeList, TemplateSyntaxError, defaultfilters, defaulttags
from django.template.base import Parser, Token, VariableNode, render_value_in_context
from django.template.context import Context
from django.template.defaulttags import ForNode, NowNode, RegroupNode
from django.template.loader_tags import IncludeNode, do_include
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.timezone import template_localtime

from tidings.templates import limits
from tidings.templates.bounded import GuardedNowNode, GuardedRegroupNode, guard_filters
from tidings.templates.limits import RenderLimitExceeded

MAX_SOURCE_BYTES = 1024 * 1024  # one template part (html, text or amp)
MAX_CONTEXT_DEPTH = 64
UNIVERSAL_PREFIX = "universal:"

BANNED_TAGS = {"debug", "load", "url", "querystring", "lorem", "csrf_token"}
BANNED_FILTERS = {"pprint"}


class Refused(Exception):
    """Raised by a frozen container's mutating method; Django renders it as an empty string."""

    silent_variable_failure = True


# ---------------------------------------------------------------------------- frozen data


def _refuse(self: Any, *args: Any, **kwargs: Any) -> None:
    raise Refused("template data is read-only")


class FrozenDict(dict[str, Any]):
    """A dict a template can read but not change (its mutators refuse, silently)."""

    __slots__ = ()
    clear = pop = popitem = setdefault = update = __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]


class FrozenList(list[Any]):
    __slots__ = ()
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse  # type: ignore[assignment]


_SCALARS = (str, int, float, bool, type(None))


def freeze(value: Any, depth: int = 0) -> Any:
    """JSON-like data as read-only containers; anything else passes through unchanged."""
    kind = type(value)
    if kind in _SCALARS or kind is FrozenDict or kind is FrozenList:
        return value
    if depth > MAX_CONTEXT_DEPTH:
        raise RenderLimitExceeded(
            "context depth", f"The context is nested more than {MAX_CONTEXT_DEPTH} levels deep."
        )
    inner = depth + 1
    if kind is dict or isinstance(value, Mapping):
        return FrozenDict(
            [
                (k if type(k) is str else str(k), v if type(v) in _SCALARS else freeze(v, inner))
                for k, v in value.items()
            ]
        )
    if kind is list or kind is tuple:
        return FrozenList([v if type(v) in _SCALARS else freeze(v, inner) for v in value])
    return value


# ---------------------------------------------------------------------------- guarded nodes


class GuardedNodeList(NodeList):
    """A node list within the render's budget: the deadline, then its output as it grows."""

    def render(self, context: Context) -> str:
        budget = limits.current()
        if budget is None:
            return SafeString("".join([node.render(context) for node in self]))
        budget.check_time()
        # render(), not render_annotated(): the annotation only serves Django's debug pages.
        pieces: list[str] = []
        append, size, max_output = pieces.append, 0, budget.max_output
        for node in self:
            piece = node.render(context)
            size += len(piece)
            if size > max_output:  # before the next node adds to it
                budget.check_output(size)
            append(piece)
        budget.charge(size)
        return SafeString("".join(pieces))  # as Django's NodeList (tags like {% filter %} keep it safe)


class GuardedForNode(ForNode):
    """Django's `{% for %}`, within the render's budget on every iteration.

    Django's loop renders its body's nodes itself (not through NodeList.render), so the
    guard has to live in the loop; the body below is Django 5.2's, plus the checks.
    """

    def render(self, context: Context) -> str:
        budget = limits.current()
        parentloop = context.get("forloop", {})
        with context.push():
            values = self.sequence.resolve(context, ignore_failures=True)
            if values is None:
                values = []
            if not hasattr(values, "__len__"):
                values = list(values)
            len_values = len(values)
            if len_values < 1:
                return str(self.nodelist_empty.render(context))
            out: list[str] = []
            size = 0
            if self.is_reversed:
                values = reversed(values)
            unpack = len(self.loopvars) > 1
            loop_dict = context["forloop"] = {"parentloop": parentloop}
            for i, item in enumerate(values):
                if budget is not None:
                    budget.check_time()
                loop_dict["counter0"] = i
                loop_dict["counter"] = i + 1
                loop_dict["revcounter"] = len_values - i
                loop_dict["revcounter0"] = len_values - i - 1
                loop_dict["first"] = i == 0
                loop_dict["last"] = i == len_values - 1
                pop_context = False
                if unpack:
                    try:
                        len_item = len(item)
                    except TypeError:
                        len_item = 1
                    if len(self.loopvars) != len_item:
                        raise ValueError(
                            f"Need {len(self.loopvars)} values to unpack in for loop; got {len_item}."
                        )
                    context.update(dict(zip(self.loopvars, item, strict=False)))
                    pop_context = True
                else:
                    context[self.loopvars[0]] = item
                before = size
                for node in self.nodelist_loop:
                    piece = node.render(context)
                    size += len(piece)
                    if budget is not None and size > budget.max_output:
                        budget.check_output(size)
                    out.append(piece)
                if budget is not None:
                    budget.charge(size - before)
                if pop_context:
                    context.pop()
        return SafeString("".join(out))


class FastVariableNode(VariableNode):
    """`{{ ... }}` with Django's semantics and a shortcut for the common case.

    A plain variable (`first_name`, `order.total`) whose path walks dicts is looked up
    directly in the context's frames; anything else (list indexes, attributes, callables,
    literals, translations) takes Django's own `FilterExpression.resolve`. Filters are then
    applied exactly as Django applies them. A `str` that is not already safe only needs HTML
    escaping (Django's `escape` is `html.escape`); other values take Django's
    `render_value_in_context` (localisation, time zones, lazy strings).
    """

    first: str | None = None
    rest: tuple[str, ...] = ()
    filters: tuple[tuple[Any, ...], ...] = ()

    def prepare(self) -> None:
        expression = self.filter_expression
        var = expression.var
        if expression.is_var and var.lookups is not None and not var.translate and not var.literal:
            self.first = var.lookups[0]
            self.rest = tuple(var.lookups[1:])
        # (func, [(is_lookup, arg)], expects_localtime, needs_autoescape, is_safe), read once
        self.filters = tuple(
            (
                func,
                tuple((lookup, arg if lookup else mark_safe(arg)) for lookup, arg in args),
                bool(getattr(func, "expects_localtime", False)),
                bool(getattr(func, "needs_autoescape", False)),
                bool(getattr(func, "is_safe", False)),
            )
            for func, args in expression.filters
        )

    def render(self, context: Context) -> str:
        expression = self.filter_expression
        first = self.first
        output: Any = _MISSING
        if first is not None:
            for frame in reversed(context.dicts):
                if first in frame:
                    output = frame[first]
                    break
            if output is not _MISSING:
                for bit in self.rest:
                    if type(output) is FrozenDict and bit in output:
                        output = output[bit]
                    else:
                        output = _MISSING
                        break
            if output is not _MISSING and type(output) not in _PLAIN and callable(output):
                output = _MISSING
        if output is _MISSING:
            try:
                output = expression.resolve(context)
            except UnicodeDecodeError:
                return ""
        elif self.filters:
            output = _apply_filters(output, self.filters, context)
        kind = type(output)
        if kind is str:
            return django_escape_fast(output) if context.autoescape else output
        if kind is int:  # what Django's localize() gives without a thousands separator
            return str(output)
        if kind is float:
            text = repr(output)
            if "e" not in text and "n" not in text:  # not 1e+20, nan or inf
                return text
        return str(render_value_in_context(output, context))


_MISSING = object()
_PLAIN = (str, int, float, bool, type(None), FrozenDict, FrozenList)


def _apply_filters(output: Any, filters: tuple[tuple[Any, ...], ...], context: Context) -> Any:
    """Django's FilterExpression.resolve, after the variable itself has been found."""
    for func, args, expects_localtime, needs_autoescape, is_safe in filters:
        arg_vals = [arg.resolve(context) if lookup else arg for lookup, arg in args]
        if expects_localtime:
            output = template_localtime(output, context.use_tz)
        if needs_autoescape:
            new_obj = func(output, *arg_vals, autoescape=context.autoescape)
        else:
            new_obj = func(output, *arg_vals)
        output = mark_safe(new_obj) if is_safe and isinstance(output, SafeData) else new_obj
    return output


def django_escape_fast(text: str) -> str:
    # Same replacements as html.escape(quote=True), which django.utils.html.escape uses.
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "'" in text:
        text = text.replace("'", "&#x27;")
    return text


def guard(nodelist: NodeList) -> None:
    """Swap the tree's node lists, variable nodes and variables for the guarded, fast kinds."""
    seen: set[int] = set()

    def visit_list(items: NodeList) -> None:
        if id(items) in seen:
            return
        seen.add(id(items))
        if type(items) is NodeList:
            items.__class__ = GuardedNodeList
        for node in items:
            visit_node(node)

    def visit_node(node: Node) -> None:
        if type(node) is VariableNode:
            node.__class__ = FastVariableNode
            node.prepare()
        elif type(node) is ForNode:
            node.__class__ = GuardedForNode
        elif type(node) is NowNode:
            node.__class__ = GuardedNowNode
        elif type(node) is RegroupNode:
            node.__class__ = GuardedRegroupNode
        for value in vars(node).values():
            if isinstance(value, NodeList):
                visit_list(value)
        for _condition, items in getattr(node, "conditions_nodelists", ()):
            if isinstance(items, NodeList):
                visit_list(items)

    visit_list(nodelist)


# ---------------------------------------------------------------------------- universal content


@dataclass
class RenderEnv:
    """What tags need from the caller, for one render (set with `environment`)."""

    universal: Callable[[str], Any] | None = None  # id -> compiled template or None
    catalog: Callable[[str], Any] | None = None  # item id -> CatalogItemView or None
    # (profile id or None, how many, the triggering event's properties or None) -> the
    # recommended CatalogItemViews, best first (`{% recommended_products %}`)
    recommend: Callable[[str | None, int, Any], Sequence[Any]] | None = None
    coupon: Callable[[str], str] | None = None  # coupon id -> this message's code (None: a preview)
    links: Any = None  # LinkBuilder or None
    currency: str = "USD"
    locale: str = "en_US"
    timezone: str = "UTC"  # dates render in the account's time zone
    flags: set[str] = field(default_factory=set)  # e.g. "unsubscribe" once that tag rendered


_env: contextvars.ContextVar[RenderEnv | None] = contextvars.ContextVar("tidings_render_env", default=None)


def current_env() -> RenderEnv:
    env = _env.get()
    return env if env is not None else RenderEnv()


def set_env(env: RenderEnv) -> contextvars.Token[RenderEnv | None]:
    return _env.set(env)


def reset_env(token: contextvars.Token[RenderEnv | None]) -> None:
    _env.reset(token)


class UniversalIncludeNode(Node):
    child_nodelists = ()

    def __init__(self, content_id: str, include: IncludeNode) -> None:
        self.content_id = content_id
        self.include = include

    def render(self, context: Context) -> str:
        resolve = current_env().universal
        template = resolve(self.content_id) if resolve is not None else None
        if template is None:  # deleted since the template was saved: renders empty, like a variable
            return ""
        django_template = template.template  # a CompiledTemplate: render inside this render's budget
        values = {name: var.resolve(context) for name, var in self.include.extra_context.items()}
        if self.include.isolated_context:
            return str(django_template.render(context.new(values)))
        with context.push(**values):
            return str(django_template.render(context))


def universal_ids(nodelist: NodeList) -> set[str]:
    return {node.content_id for node in nodelist.get_nodes_by_type(UniversalIncludeNode)}


def do_universal_include(parser: Parser, token: Token) -> Node:
    """`{% include "universal:ID" [with a=b] [only] %}`: universal content, nothing else."""
    bits = token.split_contents()
    name = bits[1] if len(bits) > 1 else ""
    quoted = len(name) >= 2 and name[0] == name[-1] and name[0] in "'\""
    if not quoted or not name[1:-1].startswith(UNIVERSAL_PREFIX):
        raise TemplateSyntaxError(
            "{% include %} can only include universal content, named with a quoted string: "
            '{% include "universal:<id>" %}.'
        )
    node = do_include(parser, token)  # the with/only options, parsed as Django parses them
    content_id = name[1:-1][len(UNIVERSAL_PREFIX) :].strip()
    if not content_id:
        raise TemplateSyntaxError('{% include "universal:<id>" %} needs the universal content id.')
    return UniversalIncludeNode(content_id, node)


def refuse_load(parser: Parser, token: Token) -> Node:
    raise TemplateSyntaxError(
        "{% load %} is not available: Klaviyo's tags and filters are always loaded, "
        "and no other library can be."
    )


def refuse_extends(parser: Parser, token: Token) -> Node:
    raise TemplateSyntaxError("{% extends %} is not available; use universal content for shared blocks.")


# ---------------------------------------------------------------------------- the library


def builtins_library() -> Library:
    """Django's default tags and filters, minus the unsafe ones, each filter guarded (bounded.py)."""
    from django.template import loader_tags

    library = Library()
    library.tags.update({k: v for k, v in defaulttags.register.tags.items() if k not in BANNED_TAGS})
    library.tags["block"] = loader_tags.register.tags["block"]
    library.tags["include"] = do_universal_include
    library.tags["load"] = refuse_load
    library.tags["extends"] = refuse_extends
    library.filters.update(
        {k: v for k, v in defaultfilters.register.filters.items() if k not in BANNED_FILTERS}
    )
    return guard_filters(library)
