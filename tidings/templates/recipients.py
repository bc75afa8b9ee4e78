"""A message's recipient from the stored records: the profile, and the event that triggered it.

The renderer takes typed inputs (tidings.templates.messages.Recipient); this module is the
adapter from the profiles and events domains, for campaigns and flows.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.events.render import event_properties
from tidings.events.tables import Event, Metric
from tidings.profiles.render import profile_attributes
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
