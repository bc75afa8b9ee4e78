"""The template language: Django's semantics, Klaviyo's filters and tags."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.templates.context import CatalogItemView
from tidings.templates.engine import MessageSkipped, TemplateError, compile_template
from tidings.templates.links import LinkBuilder, LinkSigner
from tidings.templates.sandbox import RenderEnv


def render(source: str, context: dict | None = None, env: RenderEnv | None = None) -> str:
    return compile_template(source).render(context or {}, env=env)


# ---------------------------------------------------------------------------- Django semantics


def test_missing_variables_render_empty_and_default_applies() -> None:
    assert render("[{{ nope }}][{{ a.b.c }}][{{ nope|default:'x' }}]") == "[][][x]"


def test_autoescape_and_safe() -> None:
    assert render("{{ v }}", {"v": "<b>&'\""}) == "&lt;b&gt;&amp;&#x27;&quot;"
    assert render("{{ v|safe }}", {"v": "<b>"}) == "<b>"
    assert render("{% autoescape off %}{{ v }}{% endautoescape %}", {"v": "<b>"}) == "<b>"


def test_conditionals_loops_and_builtin_filters() -> None:
    source = (
        "{% if person|lookup:'Loyalty Points' > 150 %}VIP{% elif person|lookup:'Loyalty Points' > 0 %}"
        "{{ person|lookup:'Loyalty Points' }} points{% else %}join{% endif %}"
        "|{% for item in event.Items %}{{ forloop.counter }}:{{ item.name|title }}{% if not forloop.last %},"
        "{% endif %}{% empty %}none{% endfor %}"
        "|{{ total|floatformat:2 }}|{{ names|join:', ' }}|{{ 3|pluralize }}|{{ text|truncatechars:5 }}"
    )
    context = {
        "person": {"Loyalty Points": 42},
        "event": {"Items": [{"name": "red hat"}, {"name": "blue shoe"}]},
        "total": 12.345,
        "names": ["a", "b"],
        "text": "abcdefgh",
    }
    assert render(source, context) == "42 points|1:Red Hat,2:Blue Shoe|12.35|a, b|s|abcd…"


def test_numbers_render_as_django_renders_them() -> None:
    context = {"i": 5, "f": 42.5, "big": 1e20, "t": True, "n": None, "l": [1, 2]}
    assert render("{{ i }} {{ f }} {{ big }} {{ t }} {{ n }} {{ l }}", context) == (
        "5 42.5 100000000000000000000 True None [1, 2]"
    )


def test_dates_format_with_the_date_filter() -> None:
    when = dt.datetime(2024, 3, 5, 14, 7, tzinfo=dt.UTC)
    assert render("{{ d|date:'F j, Y' }}", {"d": when}) == "March 5, 2024"


def test_templates_compile_once_and_render_many_times() -> None:
    template = compile_template("{{ a }}")
    assert [template.render({"a": i}) for i in range(3)] == ["0", "1", "2"]


# ---------------------------------------------------------------------------- Klaviyo's filters


@pytest.mark.parametrize(
    ("source", "context", "expected"),
    [
        ("{{ person|lookup:'Loyalty Points' }}", {"person": {"Loyalty Points": 7}}, "7"),
        ("{{ event|lookup:'$value' }}", {"event": {"$value": 9.5}}, "9.5"),
        ("{{ person|lookup:'missing' }}", {"person": {}}, ""),
        ("{{ items|lookup:1 }}", {"items": ["a", "b"]}, "b"),
        ("{{ 1.5|floatadd:2.25 }}", {}, "3.75"),
        ("{{ '1.5'|floatadd:'1.5' }}", {}, "3"),
        ("{{ 'x'|floatadd:1 }}", {}, ""),
        ("{{ 5.7|add:2 }}", {}, "7"),  # Klaviyo: add ignores decimals
        ("{{ -1.2|abs }}", {}, "1.2"),
        ("{{ 'hello'|append:' world' }}", {}, "hello world"),
        ("{{ 'hello'|concat:' world' }}", {}, "hello world"),
        ("{{ a|concat:b|join:',' }}", {"a": [1], "b": [2, 3]}, "1,2,3"),
        ("{{ 1|at_least:5.0 }}", {}, "5.0"),
        ("{{ 1|at_most:-1.0 }}", {}, "-1.0"),
        ("{{ 'a@b.co'|base64_encode }}", {}, "YUBiLmNv"),
        ("{{ 'YUBiLmNv'|base64_decode }}", {}, "a@b.co"),
        ("{{ '???'|base64_url_safe_encode }}", {}, "Pz8_"),
        ("{{ 'Pz8_'|base64_url_safe_decode }}", {}, "???"),
        ("{{ 'not base64!'|base64_decode }}", {}, ""),
        ("{{ 'hELLO wORLD'|capitalize }}", {}, "Hello world"),
        ("{{ 1.2|ceil }}", {}, "2"),
        ("{{ 1.8|floor }}", {}, "1"),
        ("{{ l|compact|join:',' }}", {"l": ["a", None, "", "b"]}, "a,b"),
        ("{{ 'hello'|count }}", {}, "5"),
        ("{{ l|count }}", {"l": [1, 2, 3]}, "3"),
        ("{{ 2|multiply:2.5 }}", {}, "5"),
        ("{{ 7|divide:2 }}", {}, "3.5"),
        ("{{ 7|divide:0 }}", {}, ""),
        ("{{ 1.234|round_up:2 }}", {}, "1.24"),
        ("{{ 1.239|round_down:2 }}", {}, "1.23"),
        ("{{ 1.2|round_up }}", {}, "2"),
        ("{{ -1.2|round_down }}", {}, "-2"),
        ("{{ '2024-03-05'|format_date_string|date:'F d, Y' }}", {}, "March 05, 2024"),
        ("{{ '2024-03-05T10:00:00Z'|format_date_string|date:'H:i' }}", {}, "10:00"),
        ("{{ '03/05/2024'|format_date_string|date:'Y-m-d' }}", {}, "2024-03-05"),
        ("{{ 'someday'|format_date_string }}", {}, ""),
    ],
)
def test_klaviyo_filters(source: str, context: dict, expected: str) -> None:
    assert render(source, context) == expected


@given(st.text(max_size=50))
def test_base64_round_trips(text: str) -> None:
    context = {"t": text}
    assert compile_template("{{ t|base64_encode|base64_decode }}").render(context, autoescape=False) == text
    url_safe = "{{ t|base64_url_safe_encode|base64_url_safe_decode }}"
    assert compile_template(url_safe).render(context, autoescape=False) == text


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6), st.integers(0, 4))
def test_round_up_is_never_below_and_round_down_never_above(value: float, places: int) -> None:
    template = compile_template(f"{{{{ v|round_up:{places} }}}}|{{{{ v|round_down:{places} }}}}")
    up, down = (float(part) for part in template.render({"v": value}).split("|"))
    assert down <= value + 1e-6 and up >= value - 1e-6
    assert up - down <= 10**-places + 1e-6
    assert math.isclose(up, round(up, places)) and math.isclose(down, round(down, places))


# ---------------------------------------------------------------------------- Klaviyo's tags


def links_env() -> tuple[RenderEnv, LinkSigner]:
    signer = LinkSigner("s3cret", "https://mail.example.com/")
    return RenderEnv(links=LinkBuilder(signer, "AbC123", "01PROFILE", "msg1")), signer


@pytest.mark.parametrize(
    ("tag", "kind", "text"),
    [
        ("unsubscribe", "unsubscribe", "Unsubscribe"),
        ("manage_preferences", "preferences", "Manage Preferences"),
        ("web_view", "web-view", "View in browser"),
    ],
)
def test_link_tags_make_signed_urls(tag: str, kind: str, text: str) -> None:
    env, signer = links_env()
    source = f"{{% {tag} %}}|{{% {tag} label %}}|{{% {tag} 'Stop' %}}|{{% {tag}_link %}}"
    html = render(source, {"label": "Click <here>"}, env=env)
    default, custom, literal, url = html.split("|")
    assert default.endswith(f">{text}</a>")
    assert custom.endswith(">Click &lt;here&gt;</a>")
    assert literal.endswith(">Stop</a>")
    assert url.startswith(f"https://mail.example.com/p/{kind}?t=")
    token = url.split("?t=", 1)[1]
    claims = signer.verify(token, kind)
    assert claims is not None
    assert (claims.account_id, claims.profile_id, claims.message_id) == ("AbC123", "01PROFILE", "msg1")
    assert signer.verify(token[:-2] + "xx", kind) is None  # altered
    assert LinkSigner("other secret").verify(token, kind) is None  # another installation
    assert signer.verify(token, "unsubscribe" if kind != "unsubscribe" else "web-view") is None


def test_link_tags_without_links_render_a_placeholder() -> None:
    assert render("{% unsubscribe_link %}") == "#"


def test_link_tag_arguments_are_checked_at_compile_time() -> None:
    with pytest.raises(TemplateError):
        compile_template("{% unsubscribe_link 'x' %}")
    with pytest.raises(TemplateError):
        compile_template("{% unsubscribe 'a' 'b' %}")


HAT = CatalogItemView(
    id="$custom:::$default:::HAT-1",
    external_id="HAT-1",
    title="Red <Hat>",
    description="Warm",
    url="https://shop.example/hat",
    price=19.5,
    image_full_url="https://img.example/hat.jpg",
    custom_metadata={"Color": "red"},
)
OLD = CatalogItemView(id="$custom:::$default:::OLD", external_id="OLD", title="Old", published=False)
CATALOG = {"HAT-1": HAT, "OLD": OLD}


def catalog_env() -> RenderEnv:
    return RenderEnv(catalog=CATALOG.get, currency="EUR")


def test_catalog_block_exposes_catalog_item() -> None:
    source = (
        "{% catalog event.ProductID %}{{ catalog_item.title }}|{{ catalog_item.url }}|"
        "{{ catalog_item.featured_image.full.src }}|{{ catalog_item.metadata|lookup:'Color' }}|"
        "{% currency_format catalog_item.price %}{% endcatalog %}"
    )
    html = render(source, {"event": {"ProductID": "HAT-1"}}, env=catalog_env())
    assert html == "Red &lt;Hat&gt;|https://shop.example/hat|https://img.example/hat.jpg|red|€19.50"


def test_catalog_item_is_only_visible_inside_the_block() -> None:
    assert (
        render("{% catalog 'HAT-1' %}{% endcatalog %}[{{ catalog_item.title }}]", env=catalog_env()) == "[]"
    )


def test_catalog_without_cancel_renders_missing_items_empty() -> None:
    assert render("{% catalog 'NOPE' %}[{{ catalog_item.title }}]{% endcatalog %}", env=catalog_env()) == "[]"
    assert render("{% catalog 'OLD' %}{{ catalog_item.title }}{% endcatalog %}", env=catalog_env()) == "Old"


@pytest.mark.parametrize("item", ["NOPE", "OLD"])
def test_catalog_cancel_skips_the_message(item: str) -> None:
    template = compile_template(f'{{% catalog "{item}" unpublished="cancel" %}}x{{% endcatalog %}}')
    with pytest.raises(MessageSkipped) as info:
        template.render({}, env=catalog_env())
    assert info.value.reason == "Catalog Item Unavailable"


def test_catalog_arguments_are_checked_at_compile_time() -> None:
    for bad in [
        "{% catalog %}{% endcatalog %}",
        '{% catalog x unpublished="keep" %}{% endcatalog %}',
        "{% catalog x colour=1 %}{% endcatalog %}",
        "{% catalog x %}",
    ]:
        with pytest.raises(TemplateError):
            compile_template(bad)
    compile_template('{% catalog x integration="shopify" %}{% endcatalog %}')


def test_currency_format() -> None:
    env = RenderEnv(currency="USD")
    assert render("{% currency_format 1234.5 %}", env=env) == "$1,234.50"
    assert render('{% currency_format p currency="JPY" %}', {"p": "1200"}, env=env) == "¥1,200"
    assert render("{% currency_format 'n/a' %}", env=env) == ""
