"""Catalog tables. Every primary key and unique constraint leads with `account_id`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, JSONType, UTCDateTime, utcnow

ID = 300  # "$custom:::$default:::" + an external id of up to 255 characters


class CatalogItem(Base):
    __tablename__ = "catalog_items"
    __table_args__ = (Index("ix_catalog_items_account_id_created_id", "account_id", "created", "id"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    price: Mapped[float | None] = mapped_column(Float, nullable=True)
    image_full_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    image_thumbnail_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    images: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    custom_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CatalogVariant(Base):
    """A variant of an item.

    No foreign key to the item: PostgreSQL caches the plan of its per-row check, and a plan
    made while the table was empty scans the whole table for every row, which made the
    first feed sync of an account quadratic. The service takes the key-share lock the
    check would take (create_variant), and deleting an item deletes its variants.
    """

    __tablename__ = "catalog_variants"
    __table_args__ = (
        Index("ix_catalog_variants_account_id_created_id", "account_id", "created", "id"),
        Index("ix_catalog_variants_account_id_item_id", "account_id", "item_id"),
        Index("ix_catalog_variants_account_id_sku", "account_id", "sku"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(255))
    item_id: Mapped[str] = mapped_column(String(ID))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    sku: Mapped[str] = mapped_column(String(255))
    inventory_policy: Mapped[int] = mapped_column(SmallInteger, default=0)
    inventory_quantity: Mapped[float] = mapped_column(Float)
    price: Mapped[float] = mapped_column(Float)
    url: Mapped[str] = mapped_column(Text)
    image_full_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    image_thumbnail_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    images: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    custom_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CatalogCategory(Base):
    __tablename__ = "catalog_categories"
    __table_args__ = (Index("ix_catalog_categories_account_id_created_id", "account_id", "created", "id"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(Text)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CatalogItemCategory(Base):
    """An item in a category (many to many).

    No foreign keys: their per-row checks cost more than the rest of a feed sync together
    (measured: 115 us per row on PostgreSQL). Every write path links only items and
    categories it has just checked or written, and deleting an item or a category deletes
    its links in the same transaction (service.delete_item / delete_category).
    """

    __tablename__ = "catalog_item_categories"
    __table_args__ = (
        Index(
            "ix_catalog_item_categories_account_id_category_id_item_id",
            "account_id",
            "category_id",
            "item_id",
        ),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    category_id: Mapped[str] = mapped_column(String(ID), primary_key=True)


class CatalogChange(Base):
    """One change of a price or an inventory quantity, written with the change itself.

    Flows read this history to fire Back in Stock, Price Drop and Low Inventory triggers;
    ids are ULIDs, so "changes after id X" walks it in time order.
    """

    __tablename__ = "catalog_changes"
    __table_args__ = (
        Index(
            "ix_catalog_changes_account_id_resource_id_changed_at", "account_id", "resource_id", "changed_at"
        ),
        Index("ix_catalog_changes_account_id_changed_at", "account_id", "changed_at"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(20))  # catalog-item | catalog-variant
    resource_id: Mapped[str] = mapped_column(String(ID))
    item_id: Mapped[str] = mapped_column(String(ID))
    field: Mapped[str] = mapped_column(String(32))  # price | inventory_quantity
    old_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    new_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    source: Mapped[str] = mapped_column(String(16))  # api | bulk | feed
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CatalogBulkJob(Base):
    """A bulk create/update/delete job of items, variants or categories, as the API shows it."""

    __tablename__ = "catalog_bulk_jobs"
    __table_args__ = (
        Index("ix_catalog_bulk_jobs_account_id_job_type_created_at", "account_id", "job_type", "created_at"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    job_type: Mapped[str] = mapped_column(String(40))  # e.g. catalog-item-bulk-create-job
    status: Mapped[str] = mapped_column(String(12))  # queued | processing | complete | cancelled
    total_count: Mapped[int] = mapped_column(Integer)
    completed_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # The valid entries still to apply, as [index in the request, resource object].
    payload: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    resource_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class BackInStockSubscription(Base):
    """Someone waiting for a variant to come back in stock, with the identifiers they gave."""

    __tablename__ = "back_in_stock_subscriptions"
    __table_args__ = (
        Index("ix_back_in_stock_subscriptions_account_id_variant_id", "account_id", "variant_id", "created"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    variant_id: Mapped[str] = mapped_column(String(ID))
    channels: Mapped[list[str]] = mapped_column(JSONType)
    profile_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    phone_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    source: Mapped[str] = mapped_column(String(10))  # api | client
    # The "Subscribed to Back in Stock" event, once recorded (see service.record_back_in_stock_event).
    event_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CatalogFeed(Base):
    """A product feed URL synced on a schedule into the account's catalog."""

    __tablename__ = "catalog_feeds"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    interval_seconds: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_summary: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CatalogFeedChunk(Base):
    """A batch of products of a scheduled feed run, parsed and waiting to be applied.

    A run (`run_id`: its download job's id) stages its products here in one step; each apply
    step then applies one chunk and deletes it in the same transaction, so the sync resumes
    where it stopped and applies every chunk once.
    """

    __tablename__ = "catalog_feed_chunks"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    products: Mapped[str] = mapped_column(Text)  # a JSON array of feed_runs.product_row()
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CatalogPurchase(Base):
    """Recommendations' snapshot: a profile bought a product (by external id) in the window.

    Rebuilt from the events once a day per account (tidings/catalogs/recommendations.py), so a
    message reads purchases by product and by person through these keys instead of scanning
    the window's orders.
    """

    __tablename__ = "catalog_purchases"
    __table_args__ = (
        # Covering: the purchases of the people alike are read from the index alone.
        Index(
            "ix_catalog_purchases_account_id_profile_id_product_id", "account_id", "profile_id", "product_id"
        ),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class CatalogProductPopularity(Base):
    """How many people bought a product in the snapshot's window (its popularity)."""

    __tablename__ = "catalog_product_popularity"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    buyers: Mapped[int] = mapped_column(Integer)


class CatalogPurchaseSnapshot(Base):
    """Which window an account's snapshot holds (its start is a UTC midnight)."""

    __tablename__ = "catalog_purchase_snapshots"

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    window_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    built_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
