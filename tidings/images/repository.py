"""Queries on images."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from tidings.images.tables import Image
from tidings.jsonapi.filters import FilterField

FILTERS: dict[str, FilterField] = {
    "id": FilterField(Image.id),
    "updated_at": FilterField(Image.updated_at, kind="datetime"),
    "format": FilterField(Image.format),
    "name": FilterField(Image.name),
    "size": FilterField(Image.size, kind="number"),
    "hidden": FilterField(Image.hidden, kind="boolean"),
}
SORTS = {
    "format": Image.format,
    "id": Image.id,
    "name": Image.name,
    "size": Image.size,
    "updated_at": Image.updated_at,
}


def images_query(account_id: str) -> Select[Any]:
    return select(Image).where(Image.account_id == account_id)
