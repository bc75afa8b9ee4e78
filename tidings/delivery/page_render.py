"""The recipient pages' HTML: Django's template engine, standalone, over the files in
`page_templates/` (package data). Plain HTML and CSS, no script: every form posts back to its
own URL, and the pages work without JavaScript, at 320 px and with a screen reader."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from django.template import Context, Engine

from tidings.templates.engine import configure_django

TEMPLATES = Path(__file__).parent / "page_templates"

# Pages: no script at all, styles inline only, forms post back here, never framed. The token is in
# the URL, so no page may leak it through a Referer.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}
# The web view shows the message's own HTML: its images and styles may come from anywhere, but no
# script runs, nothing is submitted, and it is never framed by another site.
WEB_VIEW_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'none'; img-src * data:; style-src * 'unsafe-inline'; "
        "font-src * data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


@lru_cache(maxsize=1)
def _engine() -> Engine:
    configure_django()
    return Engine(dirs=[str(TEMPLATES)], autoescape=True, string_if_invalid="", libraries={})


def render(name: str, context: dict[str, Any]) -> str:
    return str(_engine().get_template(name).render(Context(context, autoescape=True)))
