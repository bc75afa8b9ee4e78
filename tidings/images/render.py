"""Images as JSON:API resources."""

from __future__ import annotations

from typing import Any

from tidings.config import Settings
from tidings.images.service import public_url
from tidings.images.tables import Image
from tidings.jsonapi.documents import Urls, iso, resource


def image_resource(
    urls: Urls, settings: Settings, image: Image, fields: list[str] | None = None
) -> dict[str, Any]:
    attributes = {
        "name": image.name,
        "image_url": public_url(settings, image),
        "format": image.format,
        "size": image.size,
        "hidden": image.hidden,
        "updated_at": iso(image.updated_at),
    }
    return resource("image", image.id, attributes, urls.resource("images", image.id), fields=fields)
