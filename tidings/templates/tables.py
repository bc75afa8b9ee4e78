from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, JSONType, UTCDateTime, utcnow


class Template(Base):
    """An email template: Django template source for the HTML, text and AMP parts."""

    __tablename__ = "templates"
    __table_args__ = (
        ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        Index("ix_templates_account_id_created", "account_id", "created"),
        Index("ix_templates_account_id_updated", "account_id", "updated"),
        Index("ix_templates_account_id_name", "account_id", "name"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    editor_type: Mapped[str] = mapped_column(String(20))
    html: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    amp: Mapped[str | None] = mapped_column(Text, nullable=True)
    definition: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class UniversalContent(Base):
    """A reusable block (Klaviyo's universal content) that templates include by id."""

    __tablename__ = "template_universal_content"
    __table_args__ = (
        ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        Index("ix_template_universal_content_account_id_created", "account_id", "created"),
        Index("ix_template_universal_content_account_id_updated", "account_id", "updated"),
        Index("ix_template_universal_content_account_id_name", "account_id", "name"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    content_type: Mapped[str] = mapped_column(String(20))
    block_type: Mapped[str] = mapped_column(String(40))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class InstanceSetting(Base):
    """Settings of the installation itself, not of an account (the link-signing secret).

    The one table without `account_id`: it holds a handful of rows read once per process and
    would be a Citus reference table.
    """

    __tablename__ = "instance_settings"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
