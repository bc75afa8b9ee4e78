"""Images of the asset library: their metadata here, their bytes on disk (`storage.py`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tidings.db.base import Base, UTCDateTime, utcnow


class Image(Base):
    __tablename__ = "images"
    __table_args__ = (
        ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        Index("ix_images_account_id_name", "account_id", "name"),
        Index("ix_images_account_id_updated_at", "account_id", "updated_at"),
    )

    account_id: Mapped[str] = mapped_column(String(6), primary_key=True)
    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(8))  # jpeg, png, gif
    size: Mapped[int] = mapped_column(Integer)  # bytes
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
