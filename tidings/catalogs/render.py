"""Catalog resources as JSON:API objects (used by the routes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tidings.catalogs.tables import CatalogBulkJob, CatalogCategory, CatalogItem, CatalogVariant
from tidings.jsonapi.documents import Urls, resource

ITEMS, VARIANTS, CATEGORIES = "catalog-items", "catalog-variants", "catalog-categories"


def when(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat() if value else None


def number(value: float | None) -> float | int | None:
    """42.0 is shown as 42, as it was most likely sent."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def item_attributes(item: CatalogItem) -> dict[str, Any]:
    return {
        "external_id": item.external_id,
        "title": item.title,
        "description": item.description,
        "price": number(item.price),
        "url": item.url,
        "image_full_url": item.image_full_url,
        "image_thumbnail_url": item.image_thumbnail_url,
        "images": item.images,
        "custom_metadata": item.custom_metadata,
        "published": item.published,
        "created": when(item.created),
        "updated": when(item.updated),
    }


def variant_attributes(variant: CatalogVariant) -> dict[str, Any]:
    return {
        "external_id": variant.external_id,
        "title": variant.title,
        "description": variant.description,
        "sku": variant.sku,
        "inventory_policy": variant.inventory_policy,
        "inventory_quantity": number(variant.inventory_quantity),
        "price": number(variant.price),
        "url": variant.url,
        "image_full_url": variant.image_full_url,
        "image_thumbnail_url": variant.image_thumbnail_url,
        "images": variant.images,
        "custom_metadata": variant.custom_metadata,
        "published": variant.published,
        "created": when(variant.created),
        "updated": when(variant.updated),
    }


def category_attributes(category: CatalogCategory) -> dict[str, Any]:
    return {"external_id": category.external_id, "name": category.name, "updated": when(category.updated)}


def _links(urls: Urls, collection: str, resource_id: str, name: str) -> dict[str, str]:
    return {
        "self": urls.relationship(collection, resource_id, name),
        "related": urls.related(collection, resource_id, name),
    }


def item_resource(
    urls: Urls,
    item: CatalogItem,
    fields: list[str] | None = None,
    variant_ids: list[str] | None = None,
) -> dict[str, Any]:
    """`variant_ids` is given when the caller asked for include=variants."""
    variants: dict[str, Any] = {"links": _links(urls, ITEMS, item.id, "variants")}
    if variant_ids is not None:
        variants = {"data": [{"type": "catalog-variant", "id": i} for i in variant_ids], **variants}
    return resource(
        "catalog-item",
        item.id,
        item_attributes(item),
        urls.resource(ITEMS, item.id),
        relationships={"variants": variants},
        fields=fields,
    )


def variant_resource(urls: Urls, variant: CatalogVariant, fields: list[str] | None = None) -> dict[str, Any]:
    return resource(
        "catalog-variant",
        variant.id,
        variant_attributes(variant),
        urls.resource(VARIANTS, variant.id),
        relationships={
            "item": {
                "data": {"type": "catalog-item", "id": variant.item_id},
                "links": _links(urls, VARIANTS, variant.id, "item"),
            }
        },
        fields=fields,
    )


def category_resource(
    urls: Urls, category: CatalogCategory, fields: list[str] | None = None
) -> dict[str, Any]:
    return resource(
        "catalog-category",
        category.id,
        category_attributes(category),
        urls.resource(CATEGORIES, category.id),
        relationships={"items": {"links": _links(urls, CATEGORIES, category.id, "items")}},
        fields=fields,
    )


def job_attributes(job: CatalogBulkJob) -> dict[str, Any]:
    return {
        "status": job.status,
        "created_at": when(job.created_at),
        "total_count": job.total_count,
        "completed_count": job.completed_count,
        "failed_count": job.failed_count,
        "completed_at": when(job.completed_at),
        "errors": list(job.errors or []),
        "expires_at": when(job.expires_at),
    }


def job_resource(
    urls: Urls,
    job: CatalogBulkJob,
    collection: str,
    related: tuple[str, str] | None,
    fields: list[str] | None = None,
) -> dict[str, Any]:
    """`related` is (relationship name, resource type) for the jobs that create or update. The
    relationship carries its linkage and no links: the spec serves no route under a job's."""
    relationships = None
    if related is not None:
        name, type_ = related
        relationships = {name: {"data": [{"type": type_, "id": i} for i in job.resource_ids or []]}}
    return resource(
        job.job_type,
        job.id,
        job_attributes(job),
        urls.resource(collection, job.id),
        relationships=relationships,
        fields=fields,
    )
