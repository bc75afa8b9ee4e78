"""Small factories for profile tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tidings.consent.tables import Subscription
from tidings.db.base import utcnow
from tidings.events.metrics import MetricKey
from tidings.events.store import NewEvent, write_events
from tidings.profiles.identity import ProfileInput, Resolution, Source, resolve_batch

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def resolve(db, account_id: str, *inputs: ProfileInput, source: Source = Source.EVENT) -> list[Resolution]:  # type: ignore[no-untyped-def]
    with db.write() as session:
        return resolve_batch(session, account_id, list(inputs), source=source)


def make_profile(db, account_id: str, **identifiers: Any) -> str:  # type: ignore[no-untyped-def]
    [result] = resolve(db, account_id, ProfileInput(**identifiers), source=Source.API)
    assert result.profile_id is not None
    return result.profile_id


def add_events(db, account_id: str, profile_id: str, *unique_ids: str, metric: str = "Placed Order") -> None:  # type: ignore[no-untyped-def]
    with db.write() as session:
        write_events(
            session,
            account_id,
            [
                NewEvent(profile_id, MetricKey(metric), T0, {"uid": uid, "owner": profile_id}, unique_id=uid)
                for uid in unique_ids
            ],
        )


def subscribe(
    db,
    account_id: str,
    profile_id: str,
    channel: str = "email",
    purpose: str = "marketing",
    consent: str = "SUBSCRIBED",
) -> None:  # type: ignore[no-untyped-def]
    with db.write() as session:
        session.add(
            Subscription(
                account_id=account_id,
                profile_id=profile_id,
                channel=channel,
                purpose=purpose,
                consent=consent,
                consent_timestamp=utcnow(),
                last_updated=utcnow(),
                method="API",
            )
        )
