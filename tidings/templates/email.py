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
from functools import lru_cache
from html.parser import HTMLParser

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


_TAG = re.compile(r"{%.*?%}|{{.*?}}", re.S)
_BLOCK = re.compile(r"{%.*?%}", re.S)
_SPACE = re.compile(r"\s+")
_MARKUP = re.compile(r"<[A-Za-z/!]")


def _tags(pattern: re.Pattern[str], text: str) -> list[str]:
    return [_SPACE.sub(" ", tag) for tag in pattern.findall(text)]


class _TableText(HTMLParser):
    """Finds text (a tag of the template included) standing directly in a table, between rows or
    cells: HTML parsers move it out of the table ("foster parenting"), so a conversion of the
    template would put it elsewhere than a conversion of each message."""

    STRUCTURE = frozenset({"table", "tbody", "thead", "tfoot", "tr", "colgroup"})
    CONTENT = frozenset({"td", "th", "caption"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.misplaced = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.STRUCTURE or tag in self.CONTENT:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if data.strip() and self.stack and self.stack[-1] in self.STRUCTURE:
            self.misplaced = True


def _segments(text: str) -> list[set[str]]:
    """The variables between each two block tags, in order."""
    return [set(_tags(_TAG, piece)) for piece in _BLOCK.split(text)]


@lru_cache(maxsize=512)
def text_template(html_source: str) -> str | None:
    """The plain-text part of an HTML-only template, as a template: the HTML source converted to
    text once, its tags kept, so each message renders text instead of converting its HTML (the
    conversion costs a millisecond or more a message; rendering, a few microseconds). None when
    the conversion would not keep the template's meaning: text standing between table rows (an
    HTML parser moves it out of the table), block tags (`{% %}`) not all there in the same order,
    or a variable found between other block tags than in the source (variables may only be
    dropped: those in attributes other than links)."""
    if "{" not in html_source:
        return None  # nothing personal: the caller converts the one HTML, once
    finder = _TableText()
    finder.feed(html_source)
    finder.close()
    if finder.misplaced:
        return None
    text = html_to_text(html_source)
    if _tags(_BLOCK, text) != _tags(_BLOCK, html_source):
        return None
    derived, source = _segments(text), _segments(html_source)
    if len(derived) != len(source) or any(not d <= s for d, s in zip(derived, source, strict=True)):
        return None
    return text


def plain_enough(text: str) -> bool:
    """A text part rendered from `text_template` that holds no markup (a variable or a block
    that output HTML would need the rendered HTML converted instead)."""
    return _MARKUP.search(text) is None


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
