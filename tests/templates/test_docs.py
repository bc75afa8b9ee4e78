"""docs/COMPATIBILITY.md lists every tag and filter templates can use, with its status."""

from __future__ import annotations

import re

from tests.conftest import ROOT
from tidings.templates.engine import _engine
from tidings.templates.sandbox import BANNED_FILTERS, BANNED_TAGS


def test_every_tag_and_filter_is_in_the_compatibility_table() -> None:
    text = (ROOT / "docs" / "COMPATIBILITY.md").read_text()
    section = text.split("## Templates and the template language", 1)[1].split("## Operations", 1)[0]
    tags_table = section.split("### Tags", 1)[1].split("### Filters", 1)[0]
    filters_table = section.split("### Filters", 1)[1].split("### Email output", 1)[0]
    named = lambda table: set(re.findall(r"`([a-z_0-9]+)", table))  # noqa: E731
    tags, filters = set(), set()
    for library in _engine(False).template_builtins:
        tags |= set(library.tags)
        filters |= set(library.filters)
    missing_tags = (tags | BANNED_TAGS) - named(tags_table)
    missing_filters = (filters | BANNED_FILTERS) - named(filters_table)
    assert not missing_tags, f"tags missing from docs/COMPATIBILITY.md: {sorted(missing_tags)}"
    assert not missing_filters, f"filters missing from docs/COMPATIBILITY.md: {sorted(missing_filters)}"
