"""The inferred type of each top-level custom profile property, recorded per account.

Klaviyo's rules (tidings/inference.py) decide: "2024-05-01" is a date, `true` a boolean,
`[..]` a list. The first type seen for a name is kept, as Klaviyo keeps a property's type
once it exists; segments compare the property by it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.dialect import insert_ignore
from tidings.inference import infer_type
from tidings.profiles.tables import PROPERTY_TYPES, ProfilePropertyType


def record(session: Session, account_id: str, values: dict[str, Any]) -> None:
    """Remember the type of each property (name -> a value) not typed yet; nulls say nothing."""
    now = utcnow()
    rows = []
    for name, value in values.items():
        kind = infer_type(value)
        if kind is not None and len(name) <= 255:
            rows.append(
                {"account_id": account_id, "property": name, "inferred_type": kind.value, "created": now}
            )
    if rows:
        session.execute(insert_ignore(session, PROPERTY_TYPES, rows))


def types(session: Session, account_id: str) -> dict[str, str]:
    stmt = select(ProfilePropertyType.property, ProfilePropertyType.inferred_type).where(
        ProfilePropertyType.account_id == account_id
    )
    return {name: kind for name, kind in session.execute(stmt)}
