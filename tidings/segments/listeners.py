"""What segments do when other domains change: ask for the incremental update of the profiles
that may have moved. The composition root registers these on the hooks of events, lists and
profiles; each runs in the writer's transaction and only gathers work (`enqueue_update`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.events.hooks import WrittenEvent
from tidings.segments.service import enqueue_update, has_segments


def events_written(session: Session, account_id: str, written: list[WrittenEvent]) -> None:
    profiles = [e.profile_id for e in written]
    if profiles and has_segments(session, account_id):
        enqueue_update(session, account_id, profiles, "event")


def list_membership_changed(session: Session, account_id: str, list_id: str, profile_ids: list[str]) -> None:
    if has_segments(session, account_id):
        enqueue_update(session, account_id, profile_ids, "list")


def profiles_changed(session: Session, account_id: str, profile_ids: list[str], reason: str) -> None:
    # A deleted profile's memberships and instants went with it (participants.remove).
    if reason != "deleted" and has_segments(session, account_id):
        enqueue_update(session, account_id, profile_ids, reason)
