"""Every domain's tables, imported in one place for Alembic's autogenerate."""

from tidings.accounts import tables as accounts  # noqa: F401
from tidings.jobs import tables as jobs  # noqa: F401
from tidings.templates import tables as templates  # noqa: F401
