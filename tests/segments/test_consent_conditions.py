"""profile-marketing-consent conditions against stored consent, with the rules of may_receive."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import make_account
from tidings.consent.tables import EmailSuppression, Subscription
from tidings.db.ids import ulid
from tidings.profiles.tables import Profile
from tidings.segments import compiler
from tidings.segments.definition import SegmentDefinition

NOW = dt.datetime(2026, 6, 15, tzinfo=dt.UTC)


def _consent(channel: str, can: bool, subscription: str) -> dict[str, Any]:
    return {
        "type": "profile-marketing-consent",
        "consent": {
            "channel": channel,
            "can_receive_marketing": can,
            "consent_status": {"subscription": subscription},
        },
    }


@pytest.fixture
def people(db) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    account = make_account(db)
    ids = {name: ulid() for name in ("never", "subscribed", "unsubscribed", "suppressed", "phone_only")}
    with db.write() as session:
        for name, pid in ids.items():
            email = None if name == "phone_only" else f"{name}-{pid}@example.com"
            phone = "+16175550100" if name == "phone_only" else None
            session.add(
                Profile(account_id=account.id, id=pid, email=email, phone_number=phone, properties={})
            )
        session.flush()

        def sub(pid: str, channel: str, consent: str) -> Subscription:
            return Subscription(
                account_id=account.id, profile_id=pid, channel=channel, purpose="marketing", consent=consent
            )

        session.add(sub(ids["subscribed"], "email", "SUBSCRIBED"))
        session.add(sub(ids["unsubscribed"], "email", "UNSUBSCRIBED"))
        session.add(sub(ids["suppressed"], "email", "SUBSCRIBED"))
        session.add(sub(ids["phone_only"], "sms", "SUBSCRIBED"))
        session.add(
            EmailSuppression(account_id=account.id, profile_id=ids["suppressed"], reason="HARD_BOUNCE")
        )
    return account.id, ids


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (_consent("email", True, "any"), {"never", "subscribed"}),
        (_consent("email", True, "subscribed"), {"subscribed"}),
        (_consent("email", True, "never_subscribed"), {"never"}),
        (_consent("email", False, "any"), {"unsubscribed", "suppressed", "phone_only"}),
        (_consent("email", False, "unsubscribed"), {"unsubscribed"}),
        (_consent("sms", True, "any"), {"phone_only"}),
        (_consent("sms", False, "never_subscribed"), {"never", "subscribed", "unsubscribed", "suppressed"}),
        (_consent("push", True, "any"), set()),
    ],
)
def test_consent_condition(db, people, condition: dict[str, Any], expected: set[str]) -> None:  # type: ignore[no-untyped-def]
    account_id, ids = people
    definition = SegmentDefinition.model_validate({"condition_groups": [{"conditions": [condition]}]})
    with db.read() as session:
        predicate = compiler.compile_definition(compiler.Context(session, account_id, NOW), definition)
        got = set(
            session.execute(select(Profile.id).where(Profile.account_id == account_id, predicate)).scalars()
        )
    assert got == {ids[name] for name in expected}
