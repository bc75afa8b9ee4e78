"""HTTP for catalog items, variants, categories and their relationships."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from tidings.catalogs import listing, repository, service
from tidings.catalogs.render import (
    CATEGORIES,
    ITEMS,
    VARIANTS,
    category_resource,
    item_resource,
    variant_resource,
)
from tidings.catalogs.schemas import (
    CategoryCreate,
    CategoryLinkage,
    CategoryUpdate,
    ItemCreate,
    ItemLinkage,
    ItemUpdate,
    VariantCreate,
    VariantUpdate,
)
from tidings.catalogs.tables import CatalogItem
from tidings.http import ApiContext, api
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.jsonapi.pagination import Page

router = APIRouter(prefix="/api", tags=["Catalogs"])


def _items(
    ctx: ApiContext, items: list[CatalogItem]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    """Item resources and, with include=variants, their variants (one query for the page)."""
    fields = ctx.params.fields.get("catalog-item")
    if "variants" not in ctx.params.include:
        return [item_resource(ctx.urls, item, fields) for item in items], None
    by_item = repository.variants_of_items(ctx.session, ctx.account_id, [item.id for item in items])
    data = [item_resource(ctx.urls, item, fields, [v.id for v in by_item[item.id]]) for item in items]
    vfields = ctx.params.fields.get("catalog-variant")
    included = [variant_resource(ctx.urls, v, vfields) for item in items for v in by_item[item.id]]
    return data, included


def _item_page(ctx: ApiContext, page: Page) -> JSONAPIResponse:
    data, included = _items(ctx, page.rows)
    return JSONAPIResponse(
        collection(data, ctx.urls, page.next_cursor, page.prev_cursor, included, include=ctx.params.include)
    )


def _ids_page(ctx: ApiContext, page: Page, type_: str) -> JSONAPIResponse:
    data = [{"type": type_, "id": row.id} for row in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


def _no_content() -> Response:
    return Response(status_code=204)


# ------------------------------------------------------------------------------ items


@router.get("/catalog-items", operation_id="get_catalog_items")
def get_catalog_items(ctx: ApiContext = api("get_catalog_items")) -> JSONAPIResponse:
    return _item_page(ctx, listing.items(ctx.session, ctx.account_id, ctx.params, ctx.op.operation_id))


@router.post("/catalog-items", operation_id="create_catalog_item", status_code=201)
def create_catalog_item(
    document: ItemCreate = Body(...), ctx: ApiContext = api("create_catalog_item")
) -> JSONAPIResponse:
    item = service.create_item(ctx.session, ctx.account_id, document.data)
    data = item_resource(ctx.urls, item, ctx.params.fields.get("catalog-item"))
    return JSONAPIResponse(single(data, data["links"]["self"]), status_code=201)


@router.get("/catalog-items/{id}", operation_id="get_catalog_item")
def get_catalog_item(id: str, ctx: ApiContext = api("get_catalog_item")) -> JSONAPIResponse:
    item = service.get_item(ctx.session, ctx.account_id, id)
    data, included = _items(ctx, [item])
    return JSONAPIResponse(single(data[0], ctx.urls.current(), included, include=ctx.params.include))


@router.patch("/catalog-items/{id}", operation_id="update_catalog_item")
def update_catalog_item(
    id: str, document: ItemUpdate = Body(...), ctx: ApiContext = api("update_catalog_item")
) -> JSONAPIResponse:
    item = service.update_item(ctx.session, ctx.account_id, id, document.data)
    data = item_resource(ctx.urls, item, ctx.params.fields.get("catalog-item"))
    return JSONAPIResponse(single(data, data["links"]["self"]))


@router.delete("/catalog-items/{id}", operation_id="delete_catalog_item", status_code=204)
def delete_catalog_item(id: str, ctx: ApiContext = api("delete_catalog_item")) -> Response:
    service.delete_item(ctx.session, ctx.account_id, id)
    return _no_content()


@router.get("/catalog-items/{id}/variants", operation_id="get_variants_for_catalog_item")
def get_variants_for_catalog_item(
    id: str, ctx: ApiContext = api("get_variants_for_catalog_item")
) -> JSONAPIResponse:
    page = listing.variants(ctx.session, ctx.account_id, ctx.params, ctx.op.operation_id, item_id=id)
    fields = ctx.params.fields.get("catalog-variant")
    data = [variant_resource(ctx.urls, v, fields) for v in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.get("/catalog-items/{id}/relationships/variants", operation_id="get_variant_ids_for_catalog_item")
def get_variant_ids_for_catalog_item(
    id: str, ctx: ApiContext = api("get_variant_ids_for_catalog_item")
) -> JSONAPIResponse:
    page = listing.variants(ctx.session, ctx.account_id, ctx.params, ctx.op.operation_id, item_id=id)
    return _ids_page(ctx, page, "catalog-variant")


@router.get("/catalog-items/{id}/categories", operation_id="get_categories_for_catalog_item")
def get_categories_for_catalog_item(
    id: str, ctx: ApiContext = api("get_categories_for_catalog_item")
) -> JSONAPIResponse:
    page = listing.categories(ctx.session, ctx.account_id, ctx.params, ctx.op.operation_id, item_id=id)
    fields = ctx.params.fields.get("catalog-category")
    data = [category_resource(ctx.urls, c, fields) for c in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.get("/catalog-items/{id}/relationships/categories", operation_id="get_category_ids_for_catalog_item")
def get_category_ids_for_catalog_item(
    id: str, ctx: ApiContext = api("get_category_ids_for_catalog_item")
) -> JSONAPIResponse:
    page = listing.categories(ctx.session, ctx.account_id, ctx.params, ctx.op.operation_id, item_id=id)
    return _ids_page(ctx, page, "catalog-category")


@router.post(
    "/catalog-items/{id}/relationships/categories",
    operation_id="add_categories_to_catalog_item",
    status_code=204,
)
def add_categories_to_catalog_item(
    id: str, document: CategoryLinkage = Body(...), ctx: ApiContext = api("add_categories_to_catalog_item")
) -> Response:
    service.change_item_categories(ctx.session, ctx.account_id, id, document.data, "add")
    return _no_content()


@router.patch(
    "/catalog-items/{id}/relationships/categories",
    operation_id="update_categories_for_catalog_item",
    status_code=204,
)
def update_categories_for_catalog_item(
    id: str,
    document: CategoryLinkage = Body(...),
    ctx: ApiContext = api("update_categories_for_catalog_item"),
) -> Response:
    service.change_item_categories(ctx.session, ctx.account_id, id, document.data, "replace")
    return _no_content()


@router.delete(
    "/catalog-items/{id}/relationships/categories",
    operation_id="remove_categories_from_catalog_item",
    status_code=204,
)
def remove_categories_from_catalog_item(
    id: str,
    document: CategoryLinkage = Body(...),
    ctx: ApiContext = api("remove_categories_from_catalog_item"),
) -> Response:
    service.change_item_categories(ctx.session, ctx.account_id, id, document.data, "remove")
    return _no_content()


# ------------------------------------------------------------------------------ variants


@router.get("/catalog-variants", operation_id="get_catalog_variants")
def get_catalog_variants(ctx: ApiContext = api("get_catalog_variants")) -> JSONAPIResponse:
    page = listing.variants(ctx.session, ctx.account_id, ctx.params, ctx.op.operation_id)
    fields = ctx.params.fields.get("catalog-variant")
    data = [variant_resource(ctx.urls, v, fields) for v in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.post("/catalog-variants", operation_id="create_catalog_variant", status_code=201)
def create_catalog_variant(
    document: VariantCreate = Body(...), ctx: ApiContext = api("create_catalog_variant")
) -> JSONAPIResponse:
    variant = service.create_variant(ctx.session, ctx.account_id, document.data)
    data = variant_resource(ctx.urls, variant, ctx.params.fields.get("catalog-variant"))
    return JSONAPIResponse(single(data, data["links"]["self"]), status_code=201)


@router.get("/catalog-variants/{id}", operation_id="get_catalog_variant")
def get_catalog_variant(id: str, ctx: ApiContext = api("get_catalog_variant")) -> JSONAPIResponse:
    variant = service.get_variant(ctx.session, ctx.account_id, id)
    data = variant_resource(ctx.urls, variant, ctx.params.fields.get("catalog-variant"))
    return JSONAPIResponse(single(data, ctx.urls.current()))


@router.patch("/catalog-variants/{id}", operation_id="update_catalog_variant")
def update_catalog_variant(
    id: str, document: VariantUpdate = Body(...), ctx: ApiContext = api("update_catalog_variant")
) -> JSONAPIResponse:
    variant = service.update_variant(ctx.session, ctx.account_id, id, document.data)
    data = variant_resource(ctx.urls, variant, ctx.params.fields.get("catalog-variant"))
    return JSONAPIResponse(single(data, data["links"]["self"]))


@router.delete("/catalog-variants/{id}", operation_id="delete_catalog_variant", status_code=204)
def delete_catalog_variant(id: str, ctx: ApiContext = api("delete_catalog_variant")) -> Response:
    service.delete_variant(ctx.session, ctx.account_id, id)
    return _no_content()


# ------------------------------------------------------------------------------ categories


@router.get("/catalog-categories", operation_id="get_catalog_categories")
def get_catalog_categories(ctx: ApiContext = api("get_catalog_categories")) -> JSONAPIResponse:
    page = listing.categories(ctx.session, ctx.account_id, ctx.params, ctx.op.operation_id)
    fields = ctx.params.fields.get("catalog-category")
    data = [category_resource(ctx.urls, c, fields) for c in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.post("/catalog-categories", operation_id="create_catalog_category", status_code=201)
def create_catalog_category(
    document: CategoryCreate = Body(...), ctx: ApiContext = api("create_catalog_category")
) -> JSONAPIResponse:
    category = service.create_category(ctx.session, ctx.account_id, document.data)
    data = category_resource(ctx.urls, category, ctx.params.fields.get("catalog-category"))
    return JSONAPIResponse(single(data, data["links"]["self"]), status_code=201)


@router.get("/catalog-categories/{id}", operation_id="get_catalog_category")
def get_catalog_category(id: str, ctx: ApiContext = api("get_catalog_category")) -> JSONAPIResponse:
    category = service.get_category(ctx.session, ctx.account_id, id)
    data = category_resource(ctx.urls, category, ctx.params.fields.get("catalog-category"))
    return JSONAPIResponse(single(data, ctx.urls.current()))


@router.patch("/catalog-categories/{id}", operation_id="update_catalog_category")
def update_catalog_category(
    id: str, document: CategoryUpdate = Body(...), ctx: ApiContext = api("update_catalog_category")
) -> JSONAPIResponse:
    category = service.update_category(ctx.session, ctx.account_id, id, document.data)
    data = category_resource(ctx.urls, category, ctx.params.fields.get("catalog-category"))
    return JSONAPIResponse(single(data, data["links"]["self"]))


@router.delete("/catalog-categories/{id}", operation_id="delete_catalog_category", status_code=204)
def delete_catalog_category(id: str, ctx: ApiContext = api("delete_catalog_category")) -> Response:
    service.delete_category(ctx.session, ctx.account_id, id)
    return _no_content()


@router.get("/catalog-categories/{id}/items", operation_id="get_items_for_catalog_category")
def get_items_for_catalog_category(
    id: str, ctx: ApiContext = api("get_items_for_catalog_category")
) -> JSONAPIResponse:
    page = listing.items(ctx.session, ctx.account_id, ctx.params, ctx.op.operation_id, category_id=id)
    return _item_page(ctx, page)


@router.get("/catalog-categories/{id}/relationships/items", operation_id="get_item_ids_for_catalog_category")
def get_item_ids_for_catalog_category(
    id: str, ctx: ApiContext = api("get_item_ids_for_catalog_category")
) -> JSONAPIResponse:
    page = listing.items(ctx.session, ctx.account_id, ctx.params, ctx.op.operation_id, category_id=id)
    return _ids_page(ctx, page, "catalog-item")


@router.post(
    "/catalog-categories/{id}/relationships/items",
    operation_id="add_items_to_catalog_category",
    status_code=204,
)
def add_items_to_catalog_category(
    id: str, document: ItemLinkage = Body(...), ctx: ApiContext = api("add_items_to_catalog_category")
) -> Response:
    service.change_category_items(ctx.session, ctx.account_id, id, document.data, "add")
    return _no_content()


@router.patch(
    "/catalog-categories/{id}/relationships/items",
    operation_id="update_items_for_catalog_category",
    status_code=204,
)
def update_items_for_catalog_category(
    id: str, document: ItemLinkage = Body(...), ctx: ApiContext = api("update_items_for_catalog_category")
) -> Response:
    service.change_category_items(ctx.session, ctx.account_id, id, document.data, "replace")
    return _no_content()


@router.delete(
    "/catalog-categories/{id}/relationships/items",
    operation_id="remove_items_from_catalog_category",
    status_code=204,
)
def remove_items_from_catalog_category(
    id: str, document: ItemLinkage = Body(...), ctx: ApiContext = api("remove_items_from_catalog_category")
) -> Response:
    service.change_category_items(ctx.session, ctx.account_id, id, document.data, "remove")
    return _no_content()


__all__ = ["CATEGORIES", "ITEMS", "VARIANTS", "router"]
