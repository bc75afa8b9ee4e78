"""What consent needs to know about lists and segments, domains above it.

Subscribing through a list joins it and takes its opt-in process (single or double);
unsubscribing with a list is list-scoped only for a member; a bulk suppression may name a
list or a segment. The lists and segments domains implement these protocols, and the
composition root hands their implementations to `set_list_gateway` and
`set_segment_gateway`; until it does, no list or segment exists.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session


class ListGateway(Protocol):
    def opt_in_process(self, session: Session, account_id: str, list_id: str) -> str | None:
        """ "single_opt_in" or "double_opt_in"; None when the account has no such list."""
        ...

    def is_member(self, session: Session, account_id: str, list_id: str, profile_id: str) -> bool: ...

    def member_ids(self, session: Session, account_id: str, list_id: str) -> list[str]: ...

    def add_members(
        self, session: Session, account_id: str, list_id: str, profile_ids: list[str], *, historical: bool
    ) -> None:
        """Join the profiles to the list (historical: without "added to list" flows)."""
        ...


class NoLists:
    def opt_in_process(self, session: Session, account_id: str, list_id: str) -> str | None:
        return None

    def is_member(self, session: Session, account_id: str, list_id: str, profile_id: str) -> bool:
        return False

    def member_ids(self, session: Session, account_id: str, list_id: str) -> list[str]:
        return []

    def add_members(
        self, session: Session, account_id: str, list_id: str, profile_ids: list[str], *, historical: bool
    ) -> None:
        return None


class SegmentGateway(Protocol):
    def segment_exists(self, session: Session, account_id: str, segment_id: str) -> bool: ...

    def member_ids(self, session: Session, account_id: str, segment_id: str) -> list[str]: ...


class NoSegments:
    def segment_exists(self, session: Session, account_id: str, segment_id: str) -> bool:
        return False

    def member_ids(self, session: Session, account_id: str, segment_id: str) -> list[str]:
        return []


_lists: ListGateway = NoLists()
_segments: SegmentGateway = NoSegments()


def set_list_gateway(gateway: ListGateway) -> None:
    global _lists
    _lists = gateway


def set_segment_gateway(gateway: SegmentGateway) -> None:
    global _segments
    _segments = gateway


def lists() -> ListGateway:
    return _lists


def segments() -> SegmentGateway:
    return _segments
