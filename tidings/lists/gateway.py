"""The lists domain's answers to consent (tidings.consent.gateways.ListGateway): a list's opt-in
process, membership, members, and joining a list through a subscription. The composition
root hands it to consent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.lists import repository, service
from tidings.lists.tables import ListMember


class ListsGateway:
    def opt_in_process(self, session: Session, account_id: str, list_id: str) -> str | None:
        found = repository.get_list(session, account_id, list_id)
        return None if found is None else found.opt_in_process

    def is_member(self, session: Session, account_id: str, list_id: str, profile_id: str) -> bool:
        return bool(session.get(ListMember, (account_id, list_id, profile_id)))

    def member_ids(self, session: Session, account_id: str, list_id: str) -> list[str]:
        stmt = select(ListMember.profile_id).where(
            ListMember.account_id == account_id, ListMember.list_id == list_id
        )
        return list(session.execute(stmt).scalars())

    def add_members(
        self, session: Session, account_id: str, list_id: str, profile_ids: list[str], *, historical: bool
    ) -> None:
        # `historical` will keep "added to list" flows from starting once flows exist; the join
        # is recorded either way.
        service.add_profiles(session, account_id, list_id, profile_ids)
