"""The sandbox's fast paths render exactly what Django's own engine renders.

The sandbox swaps Django's `{{ }}` nodes and `{% for %}` for faster, guarded subclasses;
on any JSON data they must produce Django's output byte for byte.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Engine
from hypothesis import given, settings
from hypothesis import strategies as st

from tidings.templates.engine import _engine, compile_template

SOURCES = [
    "{{ v }}",
    "{{ v.a }}|{{ v.a.b }}|{{ v.0 }}|{{ v.items }}|{{ v.keys }}",
    "{{ v|default:'x' }}|{{ v|length }}|{{ v|first }}|{{ v|join:',' }}",
    "{{ v|upper }}|{{ v|title }}|{{ v|floatformat:2 }}|{{ v|add:1 }}|{{ v|yesno }}",
    "{{ v|safe }}|{{ v|escape }}|{{ v|striptags }}|{{ v|truncatechars:3 }}",
    "{% for x in v %}{{ forloop.counter }}{{ x }}{% empty %}none{% endfor %}",
    "{% for k, x in v.items %}{{ k }}={{ x }};{% endfor %}",
    "{% if v %}yes{{ v }}{% else %}no{% endif %}",
    "{% with w=v %}{{ w }}{% endwith %}{% autoescape off %}{{ v }}{% endautoescape %}",
    "{{ missing }}|{{ missing.deeper }}|{{ missing|default:v }}",
    "{% filter lower %}<b>{{ v }}</b>{% endfilter %}|{% filter force_escape %}<i>{{ v }}</i>{% endfilter %}",
    "{% spaceless %}<p> {{ v }} </p>  <p>x</p>{% endspaceless %}{% firstof missing v 'z' %}",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["a", "b", "items", "0"]), inner, max_size=3)
    ),
    max_leaves=8,
)


def plain_django() -> Any:
    """Django's engine with the same tags and filters, without the sandbox's node swaps."""
    engine = Engine(debug=False, loaders=[], string_if_invalid="", autoescape=True)
    engine.template_builtins = _engine(False).template_builtins
    return engine


@pytest.mark.parametrize("source", SOURCES)
@settings(max_examples=60, deadline=None)
@given(value=json_values)
def test_fast_paths_render_as_django_does(source: str, value: Any) -> None:
    expected_error = None
    try:
        expected = plain_django().from_string(source).render(Context({"v": value}))
    except Exception as error:  # Django itself fails on this data: so must we
        expected_error = error
    if expected_error is not None:
        with pytest.raises(Exception):  # noqa: B017
            compile_template(source).render({"v": value})
        return
    assert compile_template(source).render({"v": value}) == expected
