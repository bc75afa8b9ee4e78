"""Who a campaign goes to, as SQL: the included lists and segments minus the excluded ones.

`recipients` is the select the ledger plans from (`delivery.service.plan_many`): profiles in
an included group and in no excluded one, so each person once however many lists hold them.
`estimate` counts the same people who may receive the channel now (the consent rules of
`tidings.consent.policy`, written as SQL so a million profiles are counted by the database, not
in Python). Smart sending is not in the estimate: it depends on what is sent until the campaign
goes out, and the gate applies it at send time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, not_, or_, select
from sqlalchemy.orm import Session

from tidings.consent.tables import EmailSuppression, Subscription
from tidings.lists.tables import List, ListMember
from tidings.profiles.tables import Profile, PushToken
from tidings.segments.tables import SegmentMember

ENABLED_PUSH = ("AUTHORIZED", "PROVISIONAL")


def _groups(session: Session, account_id: str, ids: list[str]) -> tuple[list[str], list[str]]:
    """These ids split into the account's lists and the rest (segments, or gone)."""
    if not ids:
        return [], []
    found = set(
        session.execute(select(List.id).where(List.account_id == account_id, List.id.in_(ids))).scalars()
    )
    return [i for i in ids if i in found], [i for i in ids if i not in found]


def _in_any(session: Session, account_id: str, ids: list[str]) -> ColumnElement[bool]:
    """`Profile` is a member of one of these lists or segments: an EXISTS per kind, which the
    database runs as a semi-join (no DISTINCT over the members, whose count it cannot guess)."""
    list_ids, segment_ids = _groups(session, account_id, ids)
    parts: list[ColumnElement[bool]] = []
    if list_ids:
        parts.append(
            exists().where(
                ListMember.account_id == account_id,
                ListMember.list_id.in_(list_ids),
                ListMember.profile_id == Profile.id,
            )
        )
    if segment_ids:
        parts.append(
            exists().where(
                SegmentMember.account_id == account_id,
                SegmentMember.segment_id.in_(segment_ids),
                SegmentMember.profile_id == Profile.id,
            )
        )
    return or_(*parts) if parts else false()


def in_audience(session: Session, account_id: str, audiences: dict[str, Any]) -> ColumnElement[bool]:
    """On `Profile`: in an included list or segment and in no excluded one."""
    included = [str(i) for i in audiences.get("included") or []]
    excluded = [str(i) for i in audiences.get("excluded") or []]
    condition = and_(Profile.account_id == account_id, _in_any(session, account_id, included))
    if excluded:
        condition = and_(condition, not_(_in_any(session, account_id, excluded)))
    return condition


def recipients(session: Session, account_id: str, audiences: dict[str, Any]) -> Select[Any]:
    """The profile ids of the audience, each once."""
    return select(Profile.id).where(in_audience(session, account_id, audiences))


def _may_receive(account_id: str, channel: str) -> ColumnElement[bool]:
    """Marketing consent for the campaign's channel, on `Profile` (consent/policy.py's rules)."""
    unsubscribed = exists().where(
        Subscription.account_id == account_id,
        Subscription.profile_id == Profile.id,
        Subscription.channel == channel,
        Subscription.purpose == "marketing",
        Subscription.consent == "UNSUBSCRIBED",
    )
    if channel == "email":
        suppressed = exists().where(
            EmailSuppression.account_id == account_id, EmailSuppression.profile_id == Profile.id
        )
        return and_(Profile.email.is_not(None), not_(suppressed), not_(unsubscribed))
    if channel == "sms":
        subscribed = exists().where(
            Subscription.account_id == account_id,
            Subscription.profile_id == Profile.id,
            Subscription.channel == "sms",
            Subscription.purpose == "marketing",
            Subscription.consent == "SUBSCRIBED",
        )
        return and_(Profile.phone_number.is_not(None), subscribed)
    token = exists().where(
        PushToken.account_id == account_id,
        PushToken.profile_id == Profile.id,
        PushToken.enablement_status.in_(ENABLED_PUSH),
    )
    return and_(token, not_(unsubscribed))


def estimate(session: Session, account_id: str, audiences: dict[str, Any], channel: str) -> int:
    """How many distinct profiles of the audience may receive the channel's marketing now."""
    query = select(func.count()).where(
        in_audience(session, account_id, audiences), _may_receive(account_id, channel)
    )
    return int(session.execute(query).scalar_one())


def count(session: Session, account_id: str, audiences: dict[str, Any]) -> int:
    """How many distinct profiles the audience holds."""
    query = select(func.count()).where(in_audience(session, account_id, audiences))
    return int(session.execute(query).scalar_one())
