"""Web feeds as JSON:API resources."""

from __future__ import annotations

from typing import Any

from tidings.jsonapi.documents import Urls, iso, resource
from tidings.web_feeds.tables import WebFeed


def web_feed_resource(urls: Urls, feed: WebFeed, fields: list[str] | None = None) -> dict[str, Any]:
    attributes = {
        "name": feed.name,
        "url": feed.url,
        "request_method": feed.request_method,
        "content_type": feed.content_type,
        "created": iso(feed.created),
        "updated": iso(feed.updated),
        "status": feed.status,
    }
    return resource("web-feed", feed.id, attributes, urls.resource("web-feeds", feed.id), fields=fields)
