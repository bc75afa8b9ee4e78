"""The plain-text part of an HTML-only template: made once from the template, rendered per message,
and the same text a conversion of each message's HTML would give; where the template's structure
would not survive that, each message's HTML is converted instead."""

from __future__ import annotations

import re

import pytest

from tidings.accounts.schemas import ContactInformation
from tidings.templates.email import html_to_text, text_template
from tidings.templates.links import LinkSigner
from tidings.templates.messages import AccountView, MessageContent, Recipient, RenderedMessage, render_message

ACCOUNT = AccountView(contact_information=ContactInformation())
SIGNER = LinkSigner("secret", "https://tidings.example.com")
ITEMS = [
    {"name": "Blue mug", "url": "https://shop.example.com/mug"},
    {"name": "Tea & co", "url": "https://shop.example.com/tea"},
]


def _render(html: str, **profile: object) -> RenderedMessage:
    recipient = Recipient(
        "abc123", {"id": "P1", "first_name": "Ada", "properties": {"items": ITEMS}, **profile}
    )
    result = render_message(MessageContent(html=html), recipient, ACCOUNT, signer=SIGNER, marketing=False)
    assert isinstance(result, RenderedMessage)
    return result


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><h1>Hello {{ first_name }}</h1><p>Our picks:</p>"
        '{% for item in person.items %}<p><a href="{{ item.url }}">{{ item.name }}</a></p>{% endfor %}'
        "</body></html>",
        "<div>{% if first_name %}<p>Hi {{ first_name }}</p>{% else %}<p>Hi there</p>{% endif %}</div>",
        "<ul>{% for item in person.items %}<li>{{ item.name|upper }}</li>{% endfor %}</ul>",
    ],
)
def test_the_text_made_from_the_template_is_the_text_of_the_message(html: str) -> None:
    assert text_template(html) is not None
    rendered = _render(html)
    assert _words(rendered.text) == _words(html_to_text(rendered.html))


def test_a_loop_between_table_rows_falls_back_to_converting_each_message() -> None:
    html = (
        "<table>{% for item in person.items %}<tr><td>{{ item.name }}</td></tr>{% endfor %}</table>"
        "<p>Thanks {{ first_name }}</p>"
    )
    rendered = _render(html)
    assert "Blue mug" in rendered.text and "Tea & co" in rendered.text
    assert rendered.text.index("Blue mug") < rendered.text.index("Tea & co")
    assert "{%" not in rendered.text


def test_markup_that_comes_in_through_a_value_is_converted_not_shown() -> None:
    html = "<p>Hello</p><div>{{ person.block|safe }}</div>"
    rendered = _render(html, properties={"block": "<p><b>Bold</b> news</p>"})
    assert "<b>" not in rendered.text
    assert "Bold news" in _words(rendered.text)


def test_a_condition_between_table_rows_is_kept_per_message() -> None:
    html = (
        "<table>{% if person.vip %}<tr><td>VIP offer</td></tr>{% endif %}</table><p>Bye {{ first_name }}</p>"
    )
    assert text_template(html) is None
    assert "VIP offer" not in _render(html).text
    assert "VIP offer" in _render(html, properties={"vip": True, "items": ITEMS}).text


def test_text_inside_cells_keeps_the_fast_path() -> None:
    html = "<table><tr><td>{% for item in person.items %}<p>{{ item.name }}</p>{% endfor %}</td></tr></table>"
    assert text_template(html) is not None
    rendered = _render(html)
    assert _words(rendered.text) == _words(html_to_text(rendered.html))
