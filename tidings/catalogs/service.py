"""Catalog behaviour: items, variants, categories and their relationships.

Bulk jobs live in bulk.py, data feeds in feeds.py, back in stock in backinstock.py and the
price/inventory history in history.py; all of them write through the functions here or
through the same repository, so the rules are the same whichever door a change comes in by.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tidings.catalogs import history, repository
from tidings.catalogs.ids import MalformedId, compound_id, external_id_of
from tidings.catalogs.read_models import CatalogItemView
from tidings.catalogs.schemas import (
    CategoryCreateData,
    CategoryRef,
    CategoryUpdateData,
    ItemCreateData,
    ItemRef,
    ItemUpdateData,
    VariantCreateData,
    VariantUpdateData,
)
from tidings.catalogs.tables import CatalogCategory, CatalogItem, CatalogVariant
from tidings.db.base import utcnow
from tidings.jsonapi.errors import APIError, Conflict, ErrorList, InvalidInput, NotFound

ITEM, VARIANT, CATEGORY = "catalog-item", "catalog-variant", "catalog-category"
LABEL = {ITEM: "catalog item", VARIANT: "catalog variant", CATEGORY: "catalog category"}
MODEL: dict[str, Any] = {ITEM: CatalogItem, VARIANT: CatalogVariant, CATEGORY: CatalogCategory}


def check_id(value: str, kind: str, *, pointer: str | None = None, parameter: str | None = None) -> str:
    """A compound id, or a 400 saying what is wrong with it and where."""
    try:
        external_id_of(value)
    except MalformedId as exc:
        raise InvalidInput(f"Invalid {LABEL[kind]} id: {exc}", pointer=pointer, parameter=parameter) from None
    return value


def not_found(kind: str, resource_id: str, *, pointer: str | None = None) -> NotFound:
    return NotFound(f"A {LABEL[kind]} with id {resource_id} does not exist.", pointer=pointer)


def _load(session: Session, kind: str, account_id: str, resource_id: str) -> Any:
    check_id(resource_id, kind, parameter="id")
    found = session.get(MODEL[kind], (account_id, resource_id))
    if found is None:
        raise not_found(kind, resource_id)
    return found


def get_item(session: Session, account_id: str, item_id: str) -> CatalogItem:
    item: CatalogItem = _load(session, ITEM, account_id, item_id)
    return item


def get_variant(session: Session, account_id: str, variant_id: str) -> CatalogVariant:
    variant: CatalogVariant = _load(session, VARIANT, account_id, variant_id)
    return variant


def get_category(session: Session, account_id: str, category_id: str) -> CatalogCategory:
    category: CatalogCategory = _load(session, CATEGORY, account_id, category_id)
    return category


def _check_path_id(body_id: str, path_id: str) -> None:
    if body_id != path_id:
        raise InvalidInput(
            f"The id in the body ({body_id}) differs from the id in the path.", pointer="/data/id"
        )


def _existing_refs(
    session: Session, account_id: str, kind: str, refs: Sequence[ItemRef | CategoryRef], pointer: str
) -> list[str]:
    """The ids of relationship entries, each well-formed and existing, else every error at once."""
    errors: list[APIError] = []
    ids: list[str] = []
    for index, ref in enumerate(refs):
        try:
            ids.append(check_id(ref.id, kind, pointer=f"{pointer}/{index}/id"))
        except APIError as exc:
            errors.append(exc)
    found = repository.existing_ids(session, MODEL[kind], account_id, ids)
    for index, ref in enumerate(refs):
        if ref.id in ids and ref.id not in found:
            errors.append(not_found(kind, ref.id, pointer=f"{pointer}/{index}/id"))
    if errors:
        raise ErrorList(errors)
    return list(dict.fromkeys(ids))


def _flush_or_conflict(session: Session, kind: str, resource_id: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        # Two writers raced on the same external id (PostgreSQL); the unit of work rolls back.
        raise _duplicate(kind, resource_id) from None


def _duplicate(kind: str, resource_id: str, pointer: str = "/data/attributes/external_id") -> Conflict:
    return Conflict(f"A {LABEL[kind]} with id {resource_id} already exists.", pointer=pointer)


def _require(attrs: Any, names: Sequence[str]) -> None:
    """Fields that can be changed but not cleared."""
    errors: list[APIError] = [
        InvalidInput(f"'{name}' may not be null.", pointer=f"/data/attributes/{name}")
        for name in names
        if name in attrs.model_fields_set and getattr(attrs, name) is None
    ]
    if errors:
        raise ErrorList(errors)


# ------------------------------------------------------------------------------ items


def create_item(session: Session, account_id: str, data: ItemCreateData) -> CatalogItem:
    attrs = data.attributes
    item_id = compound_id(attrs.external_id)
    if repository.get_item(session, account_id, item_id) is not None:
        raise _duplicate(ITEM, item_id)
    categories = []
    if data.relationships and data.relationships.categories:
        categories = _existing_refs(
            session,
            account_id,
            CATEGORY,
            data.relationships.categories.data,
            "/data/relationships/categories/data",
        )
    now = utcnow()
    item = CatalogItem(
        account_id=account_id,
        id=item_id,
        external_id=attrs.external_id,
        title=attrs.title,
        description=attrs.description,
        url=attrs.url,
        price=attrs.price,
        image_full_url=attrs.image_full_url,
        image_thumbnail_url=attrs.image_thumbnail_url,
        images=attrs.images,
        custom_metadata=attrs.custom_metadata,
        published=True if attrs.published is None else attrs.published,
        created=now,
        updated=now,
    )
    session.add(item)
    _flush_or_conflict(session, ITEM, item_id)
    repository.link(session, account_id, [(item_id, c) for c in categories])
    return item


ITEM_FIELDS = (
    "title", "description", "url", "price", "image_full_url", "image_thumbnail_url", "images",
    "custom_metadata", "published",
)  # fmt: skip


def update_item(
    session: Session, account_id: str, item_id: str, data: ItemUpdateData, *, source: str = "api"
) -> CatalogItem:
    item = get_item(session, account_id, item_id)
    _check_path_id(data.id, item_id)
    attrs = data.attributes
    _require(attrs, ("title", "description", "url", "published"))
    categories = None
    if data.relationships and data.relationships.categories is not None:
        categories = _existing_refs(
            session,
            account_id,
            CATEGORY,
            data.relationships.categories.data,
            "/data/relationships/categories/data",
        )
    changed = {name: getattr(attrs, name) for name in ITEM_FIELDS if name in attrs.model_fields_set}
    # An item's price is its own: its variants keep theirs (Klaviyo's rule).
    history.record(
        session,
        account_id,
        history.diff(ITEM, item.id, item.id, {"price": item.price}, changed),
        source=source,
    )
    for name, value in changed.items():
        setattr(item, name, value)
    item.updated = utcnow()
    if categories is not None:
        repository.unlink(session, account_id, item_id=item.id)
        repository.link(session, account_id, [(item.id, c) for c in categories])
    session.flush()
    return item


def delete_item(session: Session, account_id: str, item_id: str) -> None:
    """Deleting an item deletes its variants and category memberships too."""
    item = get_item(session, account_id, item_id)
    session.execute(
        delete(CatalogVariant).where(
            CatalogVariant.account_id == account_id, CatalogVariant.item_id == item.id
        )
    )
    repository.unlink(session, account_id, item_id=item.id)
    session.execute(
        delete(CatalogItem).where(CatalogItem.account_id == account_id, CatalogItem.id == item.id)
    )
    session.expunge(item)


# ------------------------------------------------------------------------------ variants


def create_variant(session: Session, account_id: str, data: VariantCreateData) -> CatalogVariant:
    attrs = data.attributes
    pointer = "/data/relationships/item/data/id"
    item_id = check_id(data.relationships.item.data.id, ITEM, pointer=pointer)
    variant_id = compound_id(attrs.external_id)
    if repository.get_variant(session, account_id, variant_id) is not None:
        raise _duplicate(VARIANT, variant_id)
    if repository.get_item(session, account_id, item_id, key_share=True) is None:
        raise not_found(ITEM, item_id, pointer=pointer)
    now = utcnow()
    variant = CatalogVariant(
        account_id=account_id,
        id=variant_id,
        external_id=attrs.external_id,
        item_id=item_id,
        title=attrs.title,
        description=attrs.description,
        sku=attrs.sku,
        inventory_policy=attrs.inventory_policy or 0,
        inventory_quantity=attrs.inventory_quantity,
        price=attrs.price,
        url=attrs.url,
        image_full_url=attrs.image_full_url,
        image_thumbnail_url=attrs.image_thumbnail_url,
        images=attrs.images,
        custom_metadata=attrs.custom_metadata,
        published=True if attrs.published is None else attrs.published,
        created=now,
        updated=now,
    )
    session.add(variant)
    _flush_or_conflict(session, VARIANT, variant_id)
    return variant


VARIANT_FIELDS = (
    "title", "description", "sku", "inventory_policy", "inventory_quantity", "price", "url",
    "image_full_url", "image_thumbnail_url", "images", "custom_metadata", "published",
)  # fmt: skip
VARIANT_REQUIRED = (
    "title", "description", "sku", "inventory_policy", "inventory_quantity", "price", "url", "published",
)  # fmt: skip


def update_variant(
    session: Session, account_id: str, variant_id: str, data: VariantUpdateData, *, source: str = "api"
) -> CatalogVariant:
    variant = get_variant(session, account_id, variant_id)
    _check_path_id(data.id, variant_id)
    attrs = data.attributes
    _require(attrs, VARIANT_REQUIRED)
    changed = {name: getattr(attrs, name) for name in VARIANT_FIELDS if name in attrs.model_fields_set}
    old = {"price": variant.price, "inventory_quantity": variant.inventory_quantity}
    history.record(
        session, account_id, history.diff(VARIANT, variant.id, variant.item_id, old, changed), source=source
    )
    for name, value in changed.items():
        setattr(variant, name, value)
    variant.updated = utcnow()
    session.flush()
    return variant


def delete_variant(session: Session, account_id: str, variant_id: str) -> None:
    variant = get_variant(session, account_id, variant_id)
    session.delete(variant)
    session.flush()


# ------------------------------------------------------------------------------ categories


def create_category(session: Session, account_id: str, data: CategoryCreateData) -> CatalogCategory:
    attrs = data.attributes
    category_id = compound_id(attrs.external_id)
    if repository.get_category(session, account_id, category_id) is not None:
        raise _duplicate(CATEGORY, category_id)
    items = []
    if data.relationships and data.relationships.items:
        items = _existing_refs(
            session, account_id, ITEM, data.relationships.items.data, "/data/relationships/items/data"
        )
    now = utcnow()
    category = CatalogCategory(
        account_id=account_id,
        id=category_id,
        external_id=attrs.external_id,
        name=attrs.name,
        created=now,
        updated=now,
    )
    session.add(category)
    _flush_or_conflict(session, CATEGORY, category_id)
    repository.link(session, account_id, [(i, category_id) for i in items])
    return category


def update_category(
    session: Session, account_id: str, category_id: str, data: CategoryUpdateData
) -> CatalogCategory:
    category = get_category(session, account_id, category_id)
    _check_path_id(data.id, category_id)
    _require(data.attributes, ("name",))
    items = None
    if data.relationships and data.relationships.items is not None:
        items = _existing_refs(
            session, account_id, ITEM, data.relationships.items.data, "/data/relationships/items/data"
        )
    if data.attributes.name is not None:
        category.name = data.attributes.name
    category.updated = utcnow()
    if items is not None:
        repository.unlink(session, account_id, category_id=category.id)
        repository.link(session, account_id, [(i, category.id) for i in items])
    session.flush()
    return category


def delete_category(session: Session, account_id: str, category_id: str) -> None:
    category = get_category(session, account_id, category_id)
    repository.unlink(session, account_id, category_id=category.id)
    session.delete(category)
    session.flush()


# ------------------------------------------------------------------------------ relationships


def change_category_items(
    session: Session, account_id: str, category_id: str, refs: Sequence[ItemRef], mode: str
) -> None:
    """mode: add | replace | remove the category's items."""
    category = get_category(session, account_id, category_id)
    if mode == "remove":
        ids = [check_id(ref.id, ITEM, pointer=f"/data/{i}/id") for i, ref in enumerate(refs)]
        repository.unlink(session, account_id, category_id=category.id, item_ids=ids)
        return
    ids = _existing_refs(session, account_id, ITEM, refs, "/data")
    if mode == "replace":
        repository.unlink(session, account_id, category_id=category.id)
    repository.link(session, account_id, [(i, category.id) for i in ids])


def change_item_categories(
    session: Session, account_id: str, item_id: str, refs: Sequence[CategoryRef], mode: str
) -> None:
    """mode: add | replace | remove the item's categories."""
    item = get_item(session, account_id, item_id)
    if mode == "remove":
        ids = [check_id(ref.id, CATEGORY, pointer=f"/data/{i}/id") for i, ref in enumerate(refs)]
        repository.unlink(session, account_id, item_id=item.id, category_ids=ids)
        return
    ids = _existing_refs(session, account_id, CATEGORY, refs, "/data")
    if mode == "replace":
        repository.unlink(session, account_id, item_id=item.id)
    repository.link(session, account_id, [(item.id, c) for c in ids])


# ------------------------------------------------------------------------------ template lookup


def lookup_item(session: Session, account_id: str, item_ref: str) -> CatalogItemView | None:
    """The item a template names, by external id (Klaviyo's `{% catalog itemID %}`) or by
    compound id, with its variants and category names; None when there is no such item."""
    candidates = [compound_id(item_ref)] if item_ref else []
    try:
        external_id_of(item_ref)
        candidates.insert(0, item_ref)
    except MalformedId:
        pass
    for candidate in candidates:
        item = repository.get_item(session, account_id, candidate)
        if item is not None:
            variants = repository.variants_of_items(session, account_id, [item.id])[item.id]
            names = repository.category_names_of_item(session, account_id, item.id)
            return CatalogItemView.of(item, variants, names)
    return None
