"""What other domains keep per profile, and how a merge, an unmerge or a deletion treats it.

A domain that stores rows keyed by profile (events, consent, push tokens, list memberships,
segment memberships, flow states, ...) offers a `ProfileParticipant`, and the composition root
registers it here. A merge calls `move` (returning a JSON-able record of what moved, kept in
the merge log), an unmerge calls `restore` with that record, and a privacy deletion calls
`delete`. The merge id lets a participant log large moves in `profile_merge_moves` rather
than in its record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

Move = Callable[[Session, str, str, str, str], dict[str, Any]]
Restore = Callable[[Session, str, str, str, dict[str, Any], str], None]
Delete = Callable[[Session, str, str], None]


@dataclass(frozen=True)
class ProfileParticipant:
    name: str
    move: Move  # (session, account_id, source_id, destination_id, merge_id) -> record
    restore: Restore  # (session, account_id, source_id, destination_id, record, merge_id)
    delete: Delete  # (session, account_id, profile_id)


_participants: dict[str, ProfileParticipant] = {}


def register(participant: ProfileParticipant) -> ProfileParticipant:
    known = _participants.get(participant.name)
    if known is not None and known != participant:
        raise ValueError(f"profile participant {participant.name!r} is registered twice")
    _participants[participant.name] = participant
    return participant


def participants() -> list[ProfileParticipant]:
    return list(_participants.values())


def participant(name: str) -> ProfileParticipant | None:
    return _participants.get(name)
