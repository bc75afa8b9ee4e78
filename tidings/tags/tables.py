"""Tag groups, tags, and taggings: one row per (tag, kind of resource, resource).

A tagging names its resource by kind and id rather than by a foreign key, so the domains above
(lists, segments, campaigns, later flows) register their kinds (`tidings.tags.kinds`) without this
domain knowing their tables; each removes the taggings of what it deletes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, UTCDateTime, utcnow


class TagGroup(Base):
    __tablename__ = "tag_groups"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_tag_groups_account_id_name"),)

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    default: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (
        UniqueConstraint("account_id", "name", name="uq_tags_account_id_name"),
        Index("ix_tags_account_id_tag_group_id", "account_id", "tag_group_id"),
        ForeignKeyConstraint(
            ["account_id", "tag_group_id"],
            ["tag_groups.account_id", "tag_groups.id"],
            name="fk_tags_tag_group",
            ondelete="CASCADE",
        ),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tag_group_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(255))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tagging(Base):
    __tablename__ = "taggings"
    __table_args__ = (
        Index("ix_taggings_account_id_resource", "account_id", "resource_kind", "resource_id"),
        ForeignKeyConstraint(
            ["account_id", "tag_id"],
            ["tags.account_id", "tags.id"],
            name="fk_taggings_tag",
            ondelete="CASCADE",
        ),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    tag_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resource_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
