"""A message's recipient from the stored records: the profile, and the event that triggered it.

The renderer takes typed inputs (tidings.templates.messages.Recipient); this module is the
adapter from the profiles and events domains, for campaigns and flows.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.events.render import event_properties
from tidings.events.tables import Event, Metric
from tidings.profiles.render import profile_attributes
from tidings.profiles.repository import profiles_by_ids
from tidings.profiles.service import get_profile
from tidings.templates.context import EventView
from tidings.templates.messages import Recipient


def event_view(session: Session, event: Event) -> EventView:
    metric = session.get(Metric, (event.account_id, event.metric_id))
    return EventView(
        properties=event_properties(event),
        metric_name=metric.name if metric is not None else None,
        datetime=event.time,
        value=event.value,
        id=event.id,
    )


def recipient(
    session: Session,
    account_id: str,
    profile_id: str,
    *,
    event_id: str | None = None,
    message_id: str | None = None,
) -> Recipient:
    """The recipient of one message; a missing profile is NotFound, a missing event is no event."""
    profile = get_profile(session, account_id, profile_id)
    event = session.get(Event, (account_id, event_id)) if event_id else None
    return Recipient(
        account_id=account_id,
        profile={"id": profile.id, **profile_attributes(profile)},
        event=event_view(session, event) if event is not None else None,
        message_id=message_id,
    )


def recipients(
    session: Session, account_id: str, wanted: list[tuple[str, str | None, str | None]]
) -> dict[str | None, Recipient]:
    """The recipients of many messages of one account, by message id, in two queries:
    `wanted` holds (profile id, event id, message id). A missing profile is left out."""
    profiles = profiles_by_ids(session, account_id, sorted({pid for pid, _, _ in wanted}))
    event_ids = sorted({eid for _, eid, _ in wanted if eid})
    query = select(Event).where(Event.account_id == account_id, Event.id.in_(event_ids))
    events = {e.id: e for e in session.execute(query).scalars()} if event_ids else {}
    out: dict[str | None, Recipient] = {}
    for profile_id, event_id, message_id in wanted:
        profile = profiles.get(profile_id)
        if profile is None:
            continue
        event = events.get(event_id) if event_id else None
        out[message_id] = Recipient(
            account_id=account_id,
            profile={"id": profile.id, **profile_attributes(profile)},
            event=event_view(session, event) if event is not None else None,
            message_id=message_id,
        )
    return out
