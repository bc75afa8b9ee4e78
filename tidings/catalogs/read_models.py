"""Typed, read-only views of catalog data for other domains (templates, flows).

`service.lookup_item` returns a `CatalogItemView`; the template renderer exposes it as
`catalog_item` inside `{% catalog %}` through `CatalogItemView.template_context()`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tidings.catalogs.tables import CatalogItem, CatalogVariant


@dataclass(frozen=True)
class CatalogVariantView:
    id: str
    external_id: str
    title: str
    description: str
    sku: str
    url: str
    price: float
    inventory_quantity: float
    inventory_policy: int
    image_full_url: str | None
    image_thumbnail_url: str | None
    images: list[str]
    custom_metadata: dict[str, Any]
    published: bool

    @property
    def in_stock(self) -> bool:
        return self.inventory_quantity > 0

    @classmethod
    def of(cls, variant: CatalogVariant) -> CatalogVariantView:
        return cls(
            id=variant.id,
            external_id=variant.external_id,
            title=variant.title,
            description=variant.description,
            sku=variant.sku,
            url=variant.url,
            price=variant.price,
            inventory_quantity=variant.inventory_quantity,
            inventory_policy=variant.inventory_policy,
            image_full_url=variant.image_full_url,
            image_thumbnail_url=variant.image_thumbnail_url,
            images=list(variant.images or []),
            custom_metadata=dict(variant.custom_metadata or {}),
            published=variant.published,
        )


@dataclass(frozen=True)
class CatalogItemView:
    id: str
    external_id: str
    title: str
    description: str
    url: str
    price: float | None
    image_full_url: str | None
    image_thumbnail_url: str | None
    images: list[str]
    custom_metadata: dict[str, Any]
    published: bool
    created: dt.datetime
    updated: dt.datetime
    categories: list[str] = field(default_factory=list)  # category names
    variants: list[CatalogVariantView] = field(default_factory=list)

    @property
    def image_urls(self) -> list[str]:
        """Every image, the full image first, without repeats."""
        urls = [self.image_full_url, *self.images, self.image_thumbnail_url]
        return list(dict.fromkeys(url for url in urls if url))

    @classmethod
    def of(cls, item: CatalogItem, variants: list[CatalogVariant], categories: list[str]) -> CatalogItemView:
        return cls(
            id=item.id,
            external_id=item.external_id,
            title=item.title,
            description=item.description,
            url=item.url,
            price=item.price,
            image_full_url=item.image_full_url,
            image_thumbnail_url=item.image_thumbnail_url,
            images=list(item.images or []),
            custom_metadata=dict(item.custom_metadata or {}),
            published=item.published,
            created=item.created,
            updated=item.updated,
            categories=categories,
            variants=[CatalogVariantView.of(v) for v in variants],
        )

    def template_context(self) -> dict[str, Any]:
        """`catalog_item` in Klaviyo's `{% catalog %}` block: title, description, url, price,
        featured_image.full.src / .thumbnail.src, images, categories (as `tags` too), metadata
        (the custom metadata), variants."""
        full = self.image_full_url or (self.images[0] if self.images else "")
        return {
            "id": self.external_id,
            "title": self.title,
            "description": self.description,
            "url": self.url,
            "price": self.price,
            "published": self.published,
            "featured_image": {
                "full": {"src": full},
                "thumbnail": {"src": self.image_thumbnail_url or full},
            },
            "images": self.image_urls,
            "categories": list(self.categories),
            "tags": list(self.categories),
            "metadata": dict(self.custom_metadata),
            "variants": [
                {
                    "id": v.external_id,
                    "title": v.title,
                    "sku": v.sku,
                    "url": v.url,
                    "price": v.price,
                    "inventory_quantity": v.inventory_quantity,
                    "in_stock": v.in_stock,
                    "published": v.published,
                }
                for v in self.variants
            ],
        }
