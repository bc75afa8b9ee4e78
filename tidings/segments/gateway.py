"""The segments domain's answers to consent (tidings.consent.gateways.SegmentGateway): whether a
segment exists and who its members are, for bulk suppressions. The composition root hands it
to consent."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tidings.segments import repository


class SegmentsGateway:
    def segment_exists(self, session: Session, account_id: str, segment_id: str) -> bool:
        return repository.segment_exists(session, account_id, segment_id)

    def member_ids(self, session: Session, account_id: str, segment_id: str) -> list[str]:
        return repository.member_ids(session, account_id, segment_id)
