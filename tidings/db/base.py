"""Base model, naming convention and the column types every domain shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, MetaData, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


class Base(DeclarativeBase):
    metadata = metadata


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on both databases (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


JSONType: Any = JSON().with_variant(JSONB(), "postgresql")


_clock: Callable[[], dt.datetime] | None = None


def utcnow() -> dt.datetime:
    """The current instant, from the wall clock unless a test set another with `set_clock`."""
    return _clock() if _clock is not None else dt.datetime.now(dt.UTC)


def set_clock(clock: Callable[[], dt.datetime] | None) -> None:
    """Replace the clock every `utcnow()` reads (None: the wall clock again). A seam for tests
    that let time pass (segments leaving a window) without waiting for it."""
    global _clock
    _clock = clock
