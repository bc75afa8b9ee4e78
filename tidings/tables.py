"""Every domain's tables, imported in one place for Alembic's autogenerate."""

from tidings.accounts import tables as accounts  # noqa: F401
from tidings.catalogs import tables as catalogs  # noqa: F401
from tidings.consent import tables as consent  # noqa: F401
from tidings.events import tables as events  # noqa: F401
from tidings.events.ingest import tables as event_ingest  # noqa: F401
from tidings.jobs import tables as jobs  # noqa: F401
from tidings.lists import tables as lists  # noqa: F401
from tidings.profiles import tables as profiles  # noqa: F401
from tidings.profiles.imports import tables as profile_imports  # noqa: F401
from tidings.segments import tables as segments  # noqa: F401
from tidings.templates import tables as templates  # noqa: F401
