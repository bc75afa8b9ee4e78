"""Email-ready output: CSS inlined into style attributes, a plain-text part, an unsubscribe link.

Mail clients drop `<style>` blocks unevenly, so rules are inlined (css-inline); `@media`
rules cannot be inlined and stay in a `<style>` block. Remote stylesheets are never fetched
(a template must not make the server request URLs). When a template has no text part, one
is made from the HTML (inscriptis, links kept as `[text](url)`). A marketing email without
an unsubscribe link gets a basic one, as Klaviyo's editor adds.
"""

from __future__ import annotations

import html as html_lib
import re

import css_inline
from inscriptis import get_text
from inscriptis.model.config import ParserConfig

from tidings.templates.links import PAGES

_inliner = css_inline.CSSInliner(
    load_remote_stylesheets=False, keep_style_tags=False, keep_at_rules=True, keep_link_tags=False
)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def inline_css(html: str) -> str:
    if "<style" not in html.lower():
        return html
    try:
        return str(_inliner.inline(html))
    except (css_inline.InlineError, ValueError):
        return html  # CSS it cannot parse: send the HTML as written rather than nothing


def html_to_text(html: str) -> str:
    text = get_text(html, ParserConfig(display_links=True))
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def has_unsubscribe_link(html: str) -> bool:
    return PAGES["unsubscribe"] in html


def add_unsubscribe_link(html: str, url: str) -> str:
    footer = (
        '<p style="text-align:center;font-size:12px;color:#666666;margin:24px 0;">'
        f'<a href="{html_lib.escape(url)}" style="color:#666666;">Unsubscribe</a></p>'
    )
    matches = list(_BODY_END.finditer(html))
    if matches:
        at = matches[-1].start()
        return html[:at] + footer + html[at:]
    return html + footer


def email_parts(
    html: str, text: str | None, *, unsubscribe_url: str | None, marketing: bool
) -> tuple[str, str]:
    """The final (html, text) of an email."""
    if marketing and unsubscribe_url and not has_unsubscribe_link(html):
        html = add_unsubscribe_link(html, unsubscribe_url)
    html = inline_css(html)
    if not text or not text.strip():
        text = html_to_text(html)
    elif marketing and unsubscribe_url and PAGES["unsubscribe"] not in text:
        text = f"{text.rstrip()}\n\nUnsubscribe: {unsubscribe_url}\n"
    return html, text
