"""What other domains keep per profile, and how a merge, an unmerge or a deletion treats it.

A domain that stores rows keyed by profile (consent, push tokens, list memberships, flow
states, ...) registers a `ProfileParticipant`. A merge calls `move` (returning a JSON-able
record of what moved, kept in the merge log), an unmerge calls `restore` with that record,
and a privacy deletion calls `delete`.

List memberships are the lists domain's: `move_list_memberships` below hands them to
`tidings.lists.participants`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

Move = Callable[[Session, str, str, str], dict[str, Any]]
Restore = Callable[[Session, str, str, str, dict[str, Any]], None]
Delete = Callable[[Session, str, str], None]


@dataclass(frozen=True)
class ProfileParticipant:
    name: str
    move: Move  # (session, account_id, source_id, destination_id) -> record
    restore: Restore  # (session, account_id, source_id, destination_id, record)
    delete: Delete  # (session, account_id, profile_id)


_participants: dict[str, ProfileParticipant] = {}


def register(participant: ProfileParticipant) -> ProfileParticipant:
    _participants[participant.name] = participant
    return participant


def participants() -> list[ProfileParticipant]:
    _load_builtin()
    return list(_participants.values())


def participant(name: str) -> ProfileParticipant | None:
    _load_builtin()
    return _participants.get(name)


def _load_builtin() -> None:
    # Importing registers them; done lazily so that the domains may import profiles freely.
    import tidings.consent.participants
    import tidings.profiles.imports.participants
    import tidings.segments.participants  # noqa: F401


# ------------------------------------------------------------------ list memberships


def move_list_memberships(
    session: Session, account_id: str, source_id: str, destination_id: str
) -> dict[str, Any]:
    """Move the source's list memberships to the destination; return what moved.

    A membership the destination already has stays the destination's. The record keeps every
    source membership with its joined_group_at, and which lists the destination gained.
    """
    from tidings.lists import participants as lists_participants

    return lists_participants.move(session, account_id, source_id, destination_id)


def restore_list_memberships(
    session: Session, account_id: str, source_id: str, destination_id: str, record: dict[str, Any]
) -> None:
    """Give the source back the memberships `move_list_memberships` recorded."""
    from tidings.lists import participants as lists_participants

    lists_participants.restore(session, account_id, source_id, destination_id, record)


def delete_list_memberships(session: Session, account_id: str, profile_id: str) -> None:
    """Remove the profile from every list (privacy deletion)."""
    from tidings.lists import participants as lists_participants

    lists_participants.delete(session, account_id, profile_id)


register(
    ProfileParticipant(
        "list_memberships", move_list_memberships, restore_list_memberships, delete_list_memberships
    )
)
