"""Who a campaign goes to, as SQL: the included lists and segments minus the excluded ones.

`recipients` is the select the ledger plans from (`delivery.service.plan_many`: one row per
profile, duplicates folded there); `estimate` counts the same people who may receive the
channel now (the consent rules of `tidings.consent.policy`, written as SQL so a million
profiles are counted by the database, not in Python). Smart sending is not in the estimate: it
depends on what is sent until the campaign goes out, and the gate applies it at send time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, or_, select, union_all
from sqlalchemy.orm import Session

from tidings.consent.tables import EmailSuppression, Subscription
from tidings.lists.tables import ListMember
from tidings.profiles.tables import Profile, PushToken
from tidings.segments.tables import SegmentMember

ENABLED_PUSH = ("AUTHORIZED", "PROVISIONAL")


def _members(account_id: str, group_ids: list[str]) -> Any:
    """The profile ids in any of these lists or segments (duplicates kept)."""
    lists = select(ListMember.profile_id.label("profile_id")).where(
        ListMember.account_id == account_id, ListMember.list_id.in_(group_ids)
    )
    segments = select(SegmentMember.profile_id.label("profile_id")).where(
        SegmentMember.account_id == account_id, SegmentMember.segment_id.in_(group_ids)
    )
    return union_all(lists, segments).subquery("members")


def _excluded(account_id: str, profile_id: Any, excluded: list[str]) -> ColumnElement[bool]:
    in_list = exists().where(
        ListMember.account_id == account_id,
        ListMember.list_id.in_(excluded),
        ListMember.profile_id == profile_id,
    )
    in_segment = exists().where(
        SegmentMember.account_id == account_id,
        SegmentMember.segment_id.in_(excluded),
        SegmentMember.profile_id == profile_id,
    )
    return or_(in_list, in_segment)


def recipients(account_id: str, audiences: dict[str, Any]) -> Select[Any]:
    """The profile ids of the audience (a person in two included lists appears twice)."""
    included = [str(i) for i in audiences.get("included") or []]
    excluded = [str(i) for i in audiences.get("excluded") or []]
    members = _members(account_id, included)
    query = select(members.c.profile_id)
    if excluded:
        query = query.where(not_(_excluded(account_id, members.c.profile_id, excluded)))
    return query


def distinct_recipients(account_id: str, audiences: dict[str, Any]) -> Any:
    """The audience with each profile once, as a subquery with one column, `profile_id`."""
    return recipients(account_id, audiences).distinct().subquery("recipients")


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
    audience = distinct_recipients(account_id, audiences)
    query = (
        select(func.count())
        .select_from(audience)
        .join(Profile, and_(Profile.account_id == account_id, Profile.id == audience.c.profile_id))
        .where(_may_receive(account_id, channel))
    )
    return int(session.execute(query).scalar_one())


def count(session: Session, account_id: str, audiences: dict[str, Any]) -> int:
    """How many distinct profiles the audience holds."""
    audience = distinct_recipients(account_id, audiences)
    return int(session.execute(select(func.count()).select_from(audience)).scalar_one())
