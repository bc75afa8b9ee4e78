"""Templates are user input: the known ways out of Django's template language stay closed."""

from __future__ import annotations

import pytest

from tidings.templates.engine import RenderError, TemplateError, compile_template
from tidings.templates.limits import DEFAULT_LIMITS, RenderLimits
from tidings.templates.sandbox import RenderEnv


def render(source: str, context: dict | None = None, limits: RenderLimits = DEFAULT_LIMITS) -> str:
    return compile_template(source).render(context or {}, limits=limits)


@pytest.mark.parametrize(
    "source",
    [
        "{% debug %}",  # dumps the context and sys.modules
        "{% load log %}",
        "{% load static %}{% static 'x' %}",
        "{% load i18n %}",
        '{% include "/etc/passwd" %}',
        '{% include "../../tidings/config.py" %}',
        "{% include template_name %}",
        '{% include "universal:"|add:name %}',
        '{% extends "/etc/passwd" %}',
        '{% ssi "/etc/passwd" %}',
        "{% url 'admin:index' %}",
        "{% querystring %}",
        "{% csrf_token %}",
        "{% lorem 100000000 w %}",
        "{{ x|pprint }}",
        "{{ x.__class__ }}",
        "{{ ''.__class__.__mro__.1.__subclasses__ }}",
        "{{ x._private }}",
        "{% for c in x.__class__.__mro__ %}{% endfor %}",
        "{{ x|dictsort:y|default:z.__dict__ }}",
    ],
)
def test_escapes_are_refused_when_the_template_is_saved(source: str) -> None:
    with pytest.raises(TemplateError):
        compile_template(source)


@pytest.mark.parametrize(
    "source",
    [
        "{{ settings.SECRET_KEY }}",
        "{{ request.user }}",
        "{{ template.engine }}",
        "{{ template.source }}",
        "{{ dicts }}",
        "{{ render_context }}",
        "{{ autoescape }}",
        "{{ block.super }}",
        "{{ forloop.parentloop }}",
        "{{ csrf_token }}",
        "{% for k, v in settings.items %}{{ k }}{% endfor %}",
    ],
)
def test_engine_internals_are_not_in_reach(source: str) -> None:
    assert render(source) == ""


def test_context_data_cannot_be_changed_by_the_template() -> None:
    context = {"person": {"first_name": "Ada"}, "items": [1, 2, 3]}
    source = (
        "{{ person.clear }}{{ person.popitem }}{{ items.pop }}{{ items.clear }}{{ items.reverse }}"
        "|{{ person.first_name }}|{{ items|join:',' }}"
    )
    assert render(source, context) == "|Ada|1,2,3"
    assert context == {"person": {"first_name": "Ada"}, "items": [1, 2, 3]}


def test_dictsort_cannot_reach_private_attributes() -> None:
    assert render("{{ items|dictsort:'_secret' }}", {"items": [{"a": 1}]}) == ""
    assert render("{{ items|dictsort:'a.__class__' }}", {"items": [{"a": 1}]}) == ""


@pytest.mark.parametrize(
    "source",
    [
        "{{ s|ljust:'1000000000' }}",
        "{{ s|rjust:'1000000000' }}",
        "{{ s|center:'1000000000' }}",
        "{{ s|stringformat:'1000000000s' }}",
        "{{ 1|floatformat:'100000000' }}",
    ],
)
def test_size_arguments_are_bounded(source: str) -> None:
    with pytest.raises(RenderError, match="too large"):  # refused before allocating
        render(source, {"s": "x"})


def test_doubling_through_with_and_add_hits_the_output_budget() -> None:
    depth = 40
    source = "".join(f"{{% with s{i + 1}=s{i}|add:s{i} %}}" for i in range(depth))
    source += f"{{{{ s{depth} }}}}" + "{% endwith %}" * depth
    with pytest.raises(RenderError):
        render(source, {"s0": "abcdefgh"})


def test_nested_loops_hit_the_deadline() -> None:
    source = "{% for a in l %}{% for b in l %}{% for c in l %}{% for d in l %}x" + "{% endfor %}" * 4
    with pytest.raises(RenderError, match="too long"):
        render(source, {"l": list(range(1000))}, RenderLimits(seconds=0.3))


def test_large_output_hits_the_output_budget() -> None:
    with pytest.raises(RenderError, match="too large"):
        render(
            "{% for a in l %}{{ big }}{% endfor %}",
            {"l": list(range(100)), "big": "x" * 100_000},
            RenderLimits(max_output=1_000_000),
        )


def test_deeply_nested_context_is_refused() -> None:
    deep: dict = {}
    node = deep
    for _ in range(200):
        node["n"] = {}
        node = node["n"]
    with pytest.raises(RenderError):
        render("{{ n }}", deep)


def test_universal_include_reads_nothing_but_the_resolver() -> None:
    template = compile_template('[{% include "universal:../../etc/passwd" %}]')
    assert template.render({}) == "[]"
    asked: list[str] = []

    def resolver(content_id: str) -> None:
        asked.append(content_id)

    assert template.render({}, env=RenderEnv(universal=resolver)) == "[]"
    assert asked == ["../../etc/passwd"]


def test_no_django_settings_are_needed(monkeypatch) -> None:
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    assert render("{{ a|default:'ok' }}") == "ok"
