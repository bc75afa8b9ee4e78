"""Alembic environment: migrations run on the engine handed in by tidings.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from tidings import domains  # noqa: F401  (the composition root names every domain's tables)
from tidings.config import get_settings
from tidings.db.base import metadata
from tidings.db.engine import WRITE, make_engine

config = context.config
engine: Engine = config.attributes.get("engine") or make_engine(get_settings())

with engine.execution_options(**WRITE).connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
