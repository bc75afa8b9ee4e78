"""A render's budget: filters and tags that could grow or loop without end are refused in time.

Memory is measured with tracemalloc (peak allocated during the render), never by letting a
render allocate what it asked for: every case here would build megabytes to gigabytes
without its bound, and is refused after a few kilobytes.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.templates.bounded import PIECEWISE_TEXT
from tidings.templates.engine import RenderError, compile_template
from tidings.templates.limits import DEFAULT_LIMITS, RenderLimits

SMALL = RenderLimits(seconds=5.0, max_output=10_000, max_items=1_000)
MB = 1024 * 1024


def peak_of(action: Callable[[], Any]) -> tuple[Any, int]:
    """What `action` returned (or raised), and the most memory it held at once."""
    tracemalloc.start()
    try:
        try:
            result: Any = action()
        except RenderError as error:
            result = error
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def render(source: str, context: dict | None = None, limits: RenderLimits = SMALL) -> Any:
    template = compile_template(source)
    return peak_of(lambda: template.render(context or {}, limits=limits))


def refused(source: str, context: dict | None = None, limits: RenderLimits = SMALL) -> RenderError:
    result, peak = render(source, context, limits)
    assert isinstance(result, RenderError), f"rendered {len(result)} characters"
    assert peak < 2 * MB, f"{peak / MB:.1f} MB held before the refusal"
    return result


# ---------------------------------------------------------------------------- the incident


def repro(n: int) -> str:
    """The reported template: each make_list|join:s squares the length (n=1,000: ~10^12)."""
    s = "a" * n
    return f'{{% with s="{s}" %}}{{{{ s|make_list|join:s|make_list|join:s|make_list|join:s|length }}}}{{% endwith %}}'


def test_the_reported_template_is_refused_before_its_third_join() -> None:
    error = refused(repro(180), limits=DEFAULT_LIMITS)  # asked for ~10^9 characters
    assert error.limit == "output"
    assert "|join" in str(error) and "output limit: 5,242,880" in str(error)


def test_a_smaller_variant_is_refused_before_it_is_built() -> None:
    # Unbounded, n=60 builds a 13-million-character string (tens of MB) and answers.
    error = refused(repro(60), limits=DEFAULT_LIMITS)
    assert error.limit == "item"  # make_list over 219,540 characters


# ---------------------------------------------------------------------------- each filter and tag

S = "a b&c<d\n"  # words, lines, and characters that grow when escaped


@pytest.mark.parametrize(
    ("source", "context", "limit"),
    [
        ("{{ s|join:s }}", {"s": "x" * 200}, "output"),  # 199 * 200 + 200 characters
        ("{{ l|join:',' }}", {"l": ["x"] * 1_001}, "item"),
        ("{{ l|join:sep }}", {"l": ["<>"] * 900, "sep": "&"}, "output"),  # escaped: 900 * 8 + 899 * 5
        (
            "{% autoescape off %}{{ l|join:s }}{% endautoescape %}",
            {"l": ["x"] * 900, "s": "y" * 20},
            "output",
        ),
        ("{{ s|make_list }}", {"s": "x" * 1_001}, "item"),
        ("{{ s|add:s }}", {"s": "x" * 6_000}, "output"),
        ("{{ l|add:l }}", {"l": list(range(600))}, "item"),
        ("{{ l|concat:l }}", {"l": list(range(600))}, "item"),
        ("{{ s|concat:s }}", {"s": "x" * 6_000}, "output"),
        ("{{ s|append:s }}", {"s": "x" * 6_000}, "output"),
        ("{{ s|escape }}", {"s": "&" * 5_000}, "output"),  # 25,000 characters once escaped
        ("{{ s|truncatechars:5000 }}", {"s": "x" * 2_000}, "item"),  # a Python loop to 2,000
        ("{{ l|unordered_list }}", {"l": [["x", ["y"] * 600]] * 2}, "item"),  # nested items count
        ("{{ l|dictsort:'a' }}", {"l": [{"a": 1}] * 1_001}, "item"),
        ("{{ l|escapeseq }}", {"l": ["x"] * 1_001}, "item"),
        ("{{ x|yesno:s }}", {"x": True, "s": "a," * 600}, "item"),  # split on every comma
        ("{{ l|slice:s }}", {"l": [1], "s": ":" * 1_001}, "item"),
        ("{{ d|date:s }}", {"d": "2024-01-01", "s": "r" * 1_001}, "item"),  # 31 characters each
        ('{% now "' + "r" * 1_001 + '" %}', {}, "item"),
        ("{% regroup l by a as g %}", {"l": [{"a": 1}] * 1_001}, "item"),
        ("{{ s }}{{ s }}{{ s }}", {"s": "x" * 4_000}, "output"),  # before the node list joins
        ("{% for x in l %}{{ s }}{% endfor %}", {"l": [1, 2, 3], "s": "x" * 4_000}, "output"),
        (
            "{% with a=s|upper b=s|lower c=s|capfirst d=s|force_escape e=s|cut:'-' %}{% endwith %}",
            {"s": "x" * 9_000},
            "work",  # each under the output limit, together over four times it
        ),
    ],
)
def test_growth_is_refused_before_it_is_built(source: str, context: dict, limit: str) -> None:
    assert refused(source, context).limit == limit


@pytest.mark.parametrize("name", sorted(PIECEWISE_TEXT))
def test_piecewise_filters_take_at_most_max_items_characters(name: str) -> None:
    arg = (
        ":5"
        if name in ("wordwrap", "urlizetrunc", "truncatewords", "truncatewords_html", "truncatechars_html")
        else ""
    )
    error = refused(f"{{{{ s|{name}{arg} }}}}", {"s": S * 126})  # 1,008 characters
    assert error.limit == "item" and f"|{name}" in str(error)
    result, _ = render(f"{{{{ s|{name}{arg} }}}}", {"s": S * 125})  # 1,000: allowed
    assert isinstance(result, str)


def test_long_text_can_still_be_truncated_to_a_few_characters() -> None:
    result, _ = render("{{ s|truncatechars:5 }}", {"s": "x" * 9_000})
    assert result == "xxxx…"


@pytest.mark.parametrize("width", ["10001", "99999999999999999999", "'%10001s'", "'.10001f'"])
def test_widths_are_bounded_however_they_are_spelled(width: str) -> None:
    source = (
        f"{{{{ s|stringformat:{width} }}}}" if "%" in width or "." in width else f"{{{{ s|ljust:{width} }}}}"
    )
    assert "too large" in str(refused(source, {"s": "x"}))


def test_every_filter_call_checks_the_deadline() -> None:
    # One {{ }} node, no node list or loop in between: only the filters themselves can stop it.
    # Unbounded, this chain runs for seconds; it is refused a little after 50 ms.
    chain = '|make_list|join:""' * 2_000
    limits = RenderLimits(seconds=0.05, max_output=1_000_000, max_items=100_000)
    error = refused(f"{{{{ s{chain}|length }}}}", {"s": "x" * 50_000}, limits)
    assert error.limit == "time"


def test_within_budget_the_filters_render_as_django_does() -> None:
    result, _ = render(
        "{{ l|join:', ' }}|{{ s|make_list|join:'-' }}|{{ n|add:2 }}|{{ s|ljust:6 }}.|{{ l|unordered_list }}",
        {"l": ["a<b", "c"], "s": "abc", "n": 1},
    )
    assert result == "a&lt;b, c|a-b-c|3|abc   .|\t<li>a&lt;b</li>\n\t<li>c</li>"


def test_a_budget_spans_the_renders_that_share_it() -> None:
    from tidings.templates.limits import shared_budget

    template = compile_template("{% for x in l %}{{ s }}{% endfor %}")
    context = {"l": list(range(9)), "s": "x" * 1_000}  # 9,000 characters a render
    assert len(template.render(context, limits=SMALL)) == 9_000
    with shared_budget(SMALL), pytest.raises(RenderError) as info:
        for _ in range(5):  # each part under the output limit; together over the work limit
            template.render(context)
    assert info.value.limit == "work"


def test_the_settings_defaults_are_the_engines_defaults() -> None:
    from tidings.config import Settings

    assert RenderLimits.from_settings(Settings(_env_file=None)) == DEFAULT_LIMITS


def test_the_deadline_is_reported_by_name() -> None:
    loops = "{% for a in l %}{% for b in l %}{% endfor %}{% endfor %}"  # 10^8 empty iterations
    error = refused(loops, {"l": list(range(10_000))}, RenderLimits(seconds=0.05))
    assert error.limit == "time" and "time limit: 0.05 s" in str(error)


# ---------------------------------------------------------------------------- any composition

PROPERTY_LIMITS = RenderLimits(seconds=0.1, max_output=20_000, max_items=2_000)
# Peak memory a render within PROPERTY_LIMITS may hold: its work limit (80,000 characters,
# up to 4 bytes each), a filter's transient copies and one object per piece. Unbounded, a
# few squaring steps over these literals ask for gigabytes.
MEMORY_BOUND = 4 * MB

NUMBERS = ["0", "1", "7", "300", "10000", "1000000000"]
GROWING = [
    "make_list", "join:s", "join:','", "add:s", "concat:s", "append:s", "cut:s", "default:s", "yesno:s",
    "slice:':'", "slice:'::-1'", "ljust:{n}", "rjust:{n}", "center:{n}", "stringformat:'{n}s'",
    "floatformat:{n}", "wordwrap:{n}", "truncatechars:{n}", "truncatewords:{n}", "urlizetrunc:{n}",
    "linenumbers", "linebreaks", "linebreaksbr", "escape", "force_escape", "escapejs", "urlencode",
    "iriencode", "addslashes", "unordered_list", "escapeseq", "safeseq", "title", "upper", "capfirst",
    "capitalize", "base64_encode", "json_script", "urlize", "striptags", "slugify", "phone2numeric",
    "compact", "dictsort:0", "pluralize:s", "date:s", "first", "last", "length", "count",
]  # fmt: skip
SINKS = [
    "{{ s }}",
    "{{ s|length }}",
    "{% for x in s %}{% for y in s %}{{ x }}{% endfor %}{% endfor %}",
    "{% for x in s %}{{ s }}{% endfor %}",
    "{% for x in s %}{% for y in s %}{% for z in s %}{% endfor %}{% endfor %}{% endfor %}",
    "{% regroup s by 0 as g %}{{ g|length }}",
    "{% filter upper %}{{ s }}{{ s }}{% endfilter %}",
    "{% with t=s %}{% cycle s t as c %}{{ c }}{% firstof t s %}{% endwith %}",
]
LIMIT_NAMES = {"time", "output", "item", "work"}


def _step(name: str, number: str) -> str:
    return name.replace("{n}", number)


COMPOSITIONS = st.tuples(
    st.text(alphabet="ab <&'\n,.€", max_size=12),  # the literal
    st.lists(  # stages, each a few filters
        st.lists(
            st.builds(_step, st.sampled_from(GROWING), st.sampled_from(NUMBERS)), min_size=1, max_size=3
        ),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from(SINKS),
)


def source_of(stages: list[list[str]], sink: str) -> str:
    """`s` goes through each stage in turn; a stage's filters may take `s` itself as argument."""
    withs = "".join("{% with s=s|" + "|".join(stage) + " %}" for stage in stages)
    return "{% with s=lit %}" + withs + sink + "{% endwith %}" * (len(stages) + 1)


@settings(max_examples=300, deadline=None)
@given(case=COMPOSITIONS)
def test_any_composition_stays_within_the_budget(case: tuple[str, list[list[str]], str]) -> None:
    literal, stages, sink = case
    template = compile_template(source_of(stages, sink))
    peak_of(lambda: template.render({"lit": literal}, limits=PROPERTY_LIMITS))  # lazy imports, caches
    started = time.monotonic()
    result, peak = peak_of(lambda: template.render({"lit": literal}, limits=PROPERTY_LIMITS))
    elapsed = time.monotonic() - started
    if isinstance(result, RenderError):
        # over budget, or a filter failing on its data as it does in Django (wordwrap:0)
        assert result.limit in LIMIT_NAMES or (
            result.limit is None and not any(e in str(result) for e in ("MemoryError", "nested too deeply"))
        ), result
    else:
        assert len(result) <= PROPERTY_LIMITS.max_output
    assert peak < MEMORY_BOUND, f"{peak / MB:.1f} MB"
    # Not a benchmark: a bound (the deadline, then one small call) with room for a busy machine.
    assert elapsed < PROPERTY_LIMITS.seconds + 2.0, f"{elapsed:.2f} s"
