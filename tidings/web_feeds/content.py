"""A fetched feed body as template data: JSON as it is, XML as nested mappings.

XML becomes what `{{ feeds.<name>.rss.channel.item }}` can walk with Django's dot lookups: the
root element's name is the top key; an element's attributes and children are keys of its
mapping (a repeated child becomes a list, in document order); an element with text only is that
text; an element with attributes or children and text keeps the text under `text`. Namespaced
names keep their prefix as the document wrote it (`media:content`), so `|lookup:'media:content'`
reaches them. The parser is the standard library's expat, which expands no external entities and
refuses entity amplification (expat >= 2.4); bodies are bounded in size before they get here.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

_NAMESPACE_PREFIX = "{"


class ContentError(ValueError):
    """The body is not the JSON or XML the feed says it is."""


def parse(body: bytes, content_type: str) -> Any:
    if content_type == "json":
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ContentError(f"The feed is not valid JSON: {exc}") from None
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise ContentError(f"The feed is not valid XML: {exc}") from None
    return {_name(root.tag): _element(root)}


def _name(tag: str) -> str:
    if tag.startswith(_NAMESPACE_PREFIX):  # {uri}local: keep the local name
        return tag.rsplit("}", 1)[1]
    return tag


def _element(element: ElementTree.Element) -> Any:
    children = list(element)
    text = (element.text or "").strip()
    if not children and not element.attrib:
        return text
    out: dict[str, Any] = {_name(k): v for k, v in element.attrib.items()}
    grouped: dict[str, list[Any]] = {}
    for child in children:
        grouped.setdefault(_name(child.tag), []).append(_element(child))
    for key, values in grouped.items():
        out[key] = values[0] if len(values) == 1 else values
    if text:
        out["text"] = text
    return out
