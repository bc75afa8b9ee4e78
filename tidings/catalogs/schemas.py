"""Request bodies of the catalog endpoints, as the spec describes them.

Strict types throughout: `"5"` is not an inventory quantity and `"true"` is not a boolean.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from tidings.catalogs.ids import external_id_problem

MAX_METADATA_BYTES = 100 * 1024
MAX_BULK = 100

Number = Annotated[float, Field(allow_inf_nan=False)]
Short = Annotated[str, Field(max_length=255)]
InventoryPolicy = Literal[0, 1, 2]


def has_nul(value: Any) -> bool:
    """PostgreSQL text and jsonb cannot hold U+0000; such input is refused on both databases."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(
            "\x00" in key or (not isinstance(v, int | float) and has_nul(v)) for key, v in value.items()
        )
    if isinstance(value, list):
        return any(not isinstance(v, int | float) and has_nul(v) for v in value)
    return False


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if has_nul(value):
            raise PydanticCustomError("invalid", "Text may not contain NUL (U+0000) characters.")
        return value


def check_external_id(value: str) -> str:
    problem = external_id_problem(value)
    if problem:
        raise PydanticCustomError("invalid", problem)
    return value


def check_metadata(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Klaviyo: a flat JSON object of at most 100 KB. Lists of scalars count as flat."""
    if value is None:
        return None
    rough = 2
    for key, item in value.items():
        items = item if isinstance(item, list) else (item,)
        for inner in items:
            if isinstance(inner, dict | list):
                raise PydanticCustomError(
                    "invalid",
                    "custom_metadata must be flat: the value of {key} is nested.",
                    {"key": repr(key)},
                )
            rough += len(inner) if isinstance(inner, str) else 24
        rough += len(key) + 8
    # The exact JSON size only when the rough one (characters, not bytes) comes near the limit.
    if rough * 4 > MAX_METADATA_BYTES:
        size = len(json.dumps(value, separators=(",", ":")).encode())
        if size > MAX_METADATA_BYTES:
            raise PydanticCustomError(
                "invalid", "custom_metadata is {size} bytes; it may not exceed 100 KB.", {"size": size}
            )
    return value


class _Product(Strict):
    """Fields items and variants share."""

    image_full_url: str | None = None
    image_thumbnail_url: str | None = None
    images: list[str] | None = None
    custom_metadata: dict[str, Any] | None = None

    _metadata = field_validator("custom_metadata")(check_metadata)


class _Creatable(_Product):
    external_id: str
    integration_type: Literal["$custom"] | None = "$custom"
    catalog_type: Literal["$default"] | None = "$default"
    published: bool | None = True

    _external_id = field_validator("external_id")(check_external_id)


# ------------------------------------------------------------------------------ items


class CategoryRef(Strict):
    type: Literal["catalog-category"]
    id: str


class CategoryRefs(Strict):
    data: list[CategoryRef]


class ItemRelationships(Strict):
    categories: CategoryRefs | None = None


class ItemCreateAttributes(_Creatable):
    title: str
    description: str
    url: str
    price: Number | None = None


class ItemCreateData(Strict):
    type: Literal["catalog-item"]
    attributes: ItemCreateAttributes
    relationships: ItemRelationships | None = None


class ItemCreate(Strict):
    data: ItemCreateData


class ItemUpdateAttributes(_Product):
    title: str | None = None
    description: str | None = None
    url: str | None = None
    price: Number | None = None
    published: bool | None = None


class ItemUpdateData(Strict):
    type: Literal["catalog-item"]
    id: str
    attributes: ItemUpdateAttributes
    relationships: ItemRelationships | None = None


class ItemUpdate(Strict):
    data: ItemUpdateData


# ------------------------------------------------------------------------------ variants


class ItemRef(Strict):
    type: Literal["catalog-item"]
    id: str


class ItemRefOne(Strict):
    data: ItemRef


class VariantRelationships(Strict):
    item: ItemRefOne


class VariantCreateAttributes(_Creatable):
    title: str
    description: str
    sku: Short
    inventory_policy: InventoryPolicy | None = 0
    inventory_quantity: Number
    price: Number
    url: str


class VariantCreateData(Strict):
    type: Literal["catalog-variant"]
    attributes: VariantCreateAttributes
    relationships: VariantRelationships


class VariantCreate(Strict):
    data: VariantCreateData


class VariantUpdateAttributes(_Product):
    title: str | None = None
    description: str | None = None
    sku: Short | None = None
    inventory_policy: InventoryPolicy | None = None
    inventory_quantity: Number | None = None
    price: Number | None = None
    url: str | None = None
    published: bool | None = None


class VariantUpdateData(Strict):
    type: Literal["catalog-variant"]
    id: str
    attributes: VariantUpdateAttributes


class VariantUpdate(Strict):
    data: VariantUpdateData


# ------------------------------------------------------------------------------ categories


class ItemRefs(Strict):
    data: list[ItemRef]


class CategoryRelationships(Strict):
    items: ItemRefs | None = None


class CategoryCreateAttributes(Strict):
    external_id: str
    name: str
    integration_type: Literal["$custom"] | None = "$custom"
    catalog_type: Literal["$default"] | None = "$default"

    _external_id = field_validator("external_id")(check_external_id)


class CategoryCreateData(Strict):
    type: Literal["catalog-category"]
    attributes: CategoryCreateAttributes
    relationships: CategoryRelationships | None = None


class CategoryCreate(Strict):
    data: CategoryCreateData


class CategoryUpdateAttributes(Strict):
    name: str | None = None


class CategoryUpdateData(Strict):
    type: Literal["catalog-category"]
    id: str
    attributes: CategoryUpdateAttributes
    relationships: CategoryRelationships | None = None


class CategoryUpdate(Strict):
    data: CategoryUpdateData


# ------------------------------------------------------------------------------ relationships


class ItemLinkage(Strict):
    """Body of the category -> items relationship routes."""

    data: list[ItemRef]


class CategoryLinkage(Strict):
    """Body of the item -> categories relationship routes."""

    data: list[CategoryRef]


# ------------------------------------------------------------------------------ bulk jobs


class BulkEntries(Strict):
    # Each entry is validated on its own (see bulk.py), so one bad entry fails alone.
    data: list[Any]


class BulkItemsAttributes(Strict):
    items: BulkEntries


class BulkVariantsAttributes(Strict):
    variants: BulkEntries


class BulkCategoriesAttributes(Strict):
    categories: BulkEntries


class BulkJobData(Strict):
    type: str
    attributes: dict[str, Any]


class BulkJobCreate(Strict):
    data: BulkJobData


class DeleteRef(Strict):
    type: str
    id: str


# ------------------------------------------------------------------------------ back in stock

Channel = Literal["EMAIL", "PUSH", "SMS", "WHATSAPP"]


class SubscriberAttributes(Strict):
    email: Short | None = None
    phone_number: Annotated[str, Field(max_length=32)] | None = None
    external_id: Short | None = None


class SubscriberData(Strict):
    type: Literal["profile"]
    id: Annotated[str, Field(max_length=64)] | None = None
    attributes: SubscriberAttributes


class Subscriber(Strict):
    data: SubscriberData


class BackInStockAttributes(Strict):
    channels: list[Channel] = Field(min_length=1)
    profile: Subscriber | None = None


class VariantRef(Strict):
    type: Literal["catalog-variant"]
    id: str


class VariantRefOne(Strict):
    data: VariantRef


class BackInStockRelationships(Strict):
    variant: VariantRefOne


class BackInStockData(Strict):
    type: Literal["back-in-stock-subscription"]
    attributes: BackInStockAttributes
    relationships: BackInStockRelationships


class BackInStockCreate(Strict):
    data: BackInStockData
