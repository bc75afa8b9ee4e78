"""Klaviyo's filter grammar: parse, check against an operation's whitelist, compile to SQL.

    equals(email,"a@b.co"),greater-than(datetime,2024-01-01T00:00:00Z)
    and(any(id,['a','b']),not(has(profile)))

A top-level comma means AND. Strings take double or single quotes; datetimes may be
unquoted; lists use brackets. The domain says which SQL expression each field maps to.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, not_, or_, true

from tidings.jsonapi.errors import InvalidInput

COMPARISONS = {
    "equals",
    "any",
    "greater-than",
    "greater-or-equal",
    "less-than",
    "less-or-equal",
    "contains",
    "contains-any",
    "contains-all",
    "starts-with",
    "ends-with",
}
LIST_OPERATORS = {"any", "contains-any", "contains-all"}  # the others take one value
LOGICAL = {"and", "or", "not"}
MAX_DEPTH = 10
MAX_CONDITIONS = 100
MAX_NUMBER_LENGTH = 64  # past any column's range; `int` refuses text over 4,300 digits


@dataclass(frozen=True)
class Comparison:
    op: str
    field: str
    value: Any


@dataclass(frozen=True)
class Has:
    field: str


@dataclass(frozen=True)
class Logical:
    op: str  # "and" | "or"
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Comparison | Has | Logical | Not


def _bad(detail: str) -> InvalidInput:
    return InvalidInput(detail, parameter="filter")


_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def parse_datetime(text: str, *, naive_as: dt.tzinfo | None = dt.UTC) -> dt.datetime | None:
    """An ISO datetime; a naive one gets `naive_as` (None keeps it naive for the caller to place)."""
    text = text.strip()
    if not _DATETIME.match(text):
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if value.tzinfo is not None:
            value.astimezone(dt.UTC)  # an instant outside years 1-9999 in UTC cannot be compared
    except (ValueError, OverflowError):
        return None
    return value if value.tzinfo or naive_as is None else value.replace(tzinfo=naive_as)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.count = 0

    def fail(self, message: str) -> InvalidInput:
        shown = self.text if len(self.text) <= 200 else self.text[:200] + "…"
        return _bad(f"Invalid filter: {message} at position {self.pos} in {shown!r}.")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_ws(self) -> None:
        while self.peek() in (" ", "\t", "\n"):
            self.pos += 1

    def expect(self, char: str) -> None:
        self.skip_ws()
        if self.peek() != char:
            raise self.fail(f"expected {char!r}")
        self.pos += 1

    def parse(self) -> Node:
        items = [self.expression(0)]
        self.skip_ws()
        while self.peek() == ",":
            self.pos += 1
            items.append(self.expression(0))
            self.skip_ws()
        if self.pos != len(self.text):
            raise self.fail("unexpected text")
        return items[0] if len(items) == 1 else Logical("and", tuple(items))

    def name(self) -> str:
        self.skip_ws()
        start = self.pos
        while self.peek() and (self.peek().isalnum() or self.peek() in "-_"):
            self.pos += 1
        return self.text[start : self.pos]

    def expression(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail("nesting too deep")
        op = self.name()
        if not op:
            raise self.fail("expected an operator")
        self.expect("(")
        node: Node
        if op in ("and", "or"):
            items = [self.expression(depth + 1)]
            self.skip_ws()
            while self.peek() == ",":
                self.pos += 1
                items.append(self.expression(depth + 1))
                self.skip_ws()
            node = Logical(op, tuple(items))
        elif op == "not":
            node = Not(self.expression(depth + 1))
        elif op == "has":
            node = Has(self.field())
        elif op in COMPARISONS:
            field = self.field()
            self.expect(",")
            node = Comparison(op, field, self.value())
        else:
            raise _bad(f"Invalid filter: unknown operator {op!r}.")
        self.expect(")")
        self.count += 1
        if self.count > MAX_CONDITIONS:
            raise _bad(f"Invalid filter: more than {MAX_CONDITIONS} conditions.")
        return node

    def field(self) -> str:
        self.skip_ws()
        start = self.pos
        while self.peek() and self.peek() not in ",()":
            self.pos += 1
        field = self.text[start : self.pos].strip()
        if not field:
            raise self.fail("expected a field name")
        return field

    def value(self, *, in_list: bool = False) -> Any:
        self.skip_ws()
        char = self.peek()
        if char in ("'", '"'):
            return self.string(char)
        if char == "[":
            if in_list:  # no operator compares with a list of lists
                raise self.fail("lists cannot hold lists")
            self.pos += 1
            items: list[Any] = []
            self.skip_ws()
            if self.peek() == "]":
                self.pos += 1
                return items
            while True:
                items.append(self.value(in_list=True))
                self.skip_ws()
                if self.peek() == ",":
                    self.pos += 1
                    continue
                if self.peek() == "]":
                    self.pos += 1
                    return items
                raise self.fail("expected ',' or ']'")
        start = self.pos
        while self.peek() and self.peek() not in ",)]":
            self.pos += 1
        return self.bare(self.text[start : self.pos].strip())

    def string(self, quote: str) -> str:
        self.pos += 1
        out: list[str] = []
        while True:
            char = self.peek()
            if not char:
                raise self.fail("unterminated string")
            self.pos += 1
            if char == "\\" and self.peek():
                out.append(self.peek())
                self.pos += 1
            elif char == quote:
                return "".join(out)
            else:
                out.append(char)

    def bare(self, token: str) -> Any:
        if token in ("true", "false"):
            return token == "true"
        if token == "null":
            return None
        if _NUMBER.fullmatch(token):
            return self.number(token)
        # Naive datetimes stay naive here: UTC for most endpoints, the query's timezone for reports.
        when = parse_datetime(token, naive_as=None)
        if when is not None:
            return when
        raise self.fail(f"invalid value {token!r}")

    def number(self, token: str) -> int | float:
        if len(token) > MAX_NUMBER_LENGTH:
            raise self.fail(f"numbers may have at most {MAX_NUMBER_LENGTH} characters")
        if not any(c in token for c in ".eE"):
            return int(token)
        value = float(token)
        if not math.isfinite(value):  # 1e400
            raise self.fail(f"the number {token} is out of range")
        return value


def parse_filter(text: str) -> Node:
    if not text.strip():
        raise _bad("Invalid filter: the filter is empty.")
    return _Parser(text).parse()


def conditions(node: Node) -> list[Comparison | Has]:
    if isinstance(node, Logical):
        return [c for item in node.items for c in conditions(item)]
    if isinstance(node, Not):
        return conditions(node.item)
    return [node]


def check_whitelist(node: Node, allowed: Mapping[str, list[str]]) -> None:
    """Every field and operator must be one the operation allows (the spec's list)."""
    for cond in conditions(node):
        op = "has" if isinstance(cond, Has) else cond.op
        if cond.field not in allowed:
            fields = ", ".join(sorted(allowed)) or "none"
            raise _bad(f"Invalid filter: field {cond.field!r} cannot be filtered; allowed fields: {fields}.")
        if op not in allowed[cond.field]:
            ops = ", ".join(allowed[cond.field])
            raise _bad(f"Invalid filter: operator {op!r} is not allowed for {cond.field!r}; allowed: {ops}.")


# ---------------------------------------------------------------------------- compiling

Clause = ColumnElement[bool]


@dataclass(frozen=True)
class FilterField:
    """How one filterable field becomes SQL.

    `column` is the expression compared; `kind` coerces values (string, datetime, number,
    boolean, or timestamp: Unix seconds compared as a datetime); `build`, when given, replaces
    the default comparison entirely.
    """

    column: Any = None
    kind: str = "string"
    normalize: Callable[[Any], Any] | None = None
    build: Callable[[str, Any], Clause] | None = None


def _coerce(field: str, spec: FilterField, value: Any) -> Any:
    if isinstance(value, list):
        return [_coerce(field, spec, v) for v in value]
    if value is None:
        return None
    if spec.kind == "datetime":
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        when = parse_datetime(str(value)) if isinstance(value, str) else None
        if when is None:
            raise _bad(f"Invalid filter: {field!r} takes a datetime, got {value!r}.")
        return when
    if spec.kind in ("number", "timestamp"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(f"Invalid filter: {field!r} takes a number, got {value!r}.")
        return _from_timestamp(field, value) if spec.kind == "timestamp" else value
    if spec.kind == "boolean":
        if not isinstance(value, bool):
            raise _bad(f"Invalid filter: {field!r} takes true or false, got {value!r}.")
        return value
    if isinstance(value, dt.datetime | bool):
        raise _bad(f"Invalid filter: {field!r} takes a string, got {value!r}.")
    value = str(value)
    if "\x00" in value:  # PostgreSQL text cannot hold NUL; no stored value contains one
        raise _bad(f"Invalid filter: the value for {field!r} contains a NUL character.")
    return spec.normalize(value) if spec.normalize else value


def _from_timestamp(field: str, seconds: float) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(int(seconds), dt.UTC)
    except (OverflowError, ValueError, OSError):
        raise _bad(f"Invalid filter: {field!r} takes Unix seconds from year 1 to 9999.") from None


def _check_shape(op: str, field: str, value: Any) -> None:
    """`any` takes a list; every other operator one value."""
    if op in LIST_OPERATORS and not isinstance(value, list):
        raise _bad(f"Invalid filter: {op!r} on {field!r} takes a list.")
    if op not in LIST_OPERATORS and isinstance(value, list):
        raise _bad(f"Invalid filter: {op!r} on {field!r} takes a single value, not a list.")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def compare(op: str, field: str, col: Any, value: Any) -> Clause:
    """The default SQL for one comparison (for FilterField.build functions that adapt a value)."""
    _check_shape(op, field, value)
    if op == "equals":
        return col.is_(None) if value is None else col == value
    if op == "any":
        return col.in_(value) if value else false()
    if value is None:
        raise _bad(f"Invalid filter: {op!r} on {field!r} takes a value, not null.")
    if op == "greater-than":
        return col > value
    if op == "greater-or-equal":
        return col >= value
    if op == "less-than":
        return col < value
    if op == "less-or-equal":
        return col <= value
    pattern = _like_escape(str(value))
    if op == "contains":
        return col.like(f"%{pattern}%", escape="\\")
    if op == "starts-with":
        return col.like(f"{pattern}%", escape="\\")
    if op == "ends-with":
        return col.like(f"%{pattern}", escape="\\")
    raise _bad(f"Invalid filter: operator {op!r} is not supported for {field!r}.")


def compile_filter(node: Node, fields: Mapping[str, FilterField]) -> Clause:
    if isinstance(node, Logical):
        parts = [compile_filter(item, fields) for item in node.items]
        return and_(true(), *parts) if node.op == "and" else or_(false(), *parts)
    if isinstance(node, Not):
        return not_(compile_filter(node.item, fields))
    spec = fields.get(node.field)
    if spec is None:
        raise _bad(f"Invalid filter: field {node.field!r} cannot be filtered here.")
    if isinstance(node, Has):
        if spec.build is not None:
            return spec.build("has", None)
        return spec.column.is_not(None)
    _check_shape(node.op, node.field, node.value)
    value = _coerce(node.field, spec, node.value)
    if spec.build is not None:
        return spec.build(node.op, value)
    return compare(node.op, node.field, spec.column, value)


def find_values(node: Node | None, field: str, op: str = "equals") -> list[Any]:
    """Values a filter compares `field` with (for endpoints whose filter is a lookup)."""
    if node is None:
        return []
    return [
        c.value for c in conditions(node) if isinstance(c, Comparison) and c.field == field and c.op == op
    ]
