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
from tidings.segments import compiler, sql
from tidings.segments.definition import SegmentDefinition

NOW = dt.datetime(2026, 6, 15, tzinfo=dt.UTC)


def _consent(channel: str, can: bool, subscription: str, *filters: dict[str, Any]) -> dict[str, Any]:
    status: dict[str, Any] = {"subscription": subscription}
    if filters:
        status["filters"] = list(filters)
    return {
        "type": "profile-marketing-consent",
        "consent": {"channel": channel, "can_receive_marketing": can, "consent_status": status},
    }


def _double(value: bool) -> dict[str, Any]:
    return {"field": "is_double_opt_in", "filter": {"type": "boolean", "operator": "equals", "value": value}}


LAST_WEEK = {"type": "date", "operator": "in-the-last", "quantity": 7, "unit": "day"}
LAST_MONTH = {"type": "date", "operator": "in-the-last", "quantity": 30, "unit": "day"}


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
                account_id=account.id,
                profile_id=pid,
                channel=channel,
                purpose="marketing",
                consent=consent,
                consent_timestamp=NOW - dt.timedelta(days=20),
            )

        subscribed = sub(ids["subscribed"], "email", "SUBSCRIBED")
        subscribed.double_optin = True
        subscribed.consent_timestamp = NOW - dt.timedelta(days=2)
        subscribed.method, subscribed.custom_method_detail = "API", "Footer form"
        session.add(subscribed)
        unsubscribed = sub(ids["unsubscribed"], "email", "UNSUBSCRIBED")
        unsubscribed.method = "PREFERENCE_PAGE"
        session.add(unsubscribed)
        session.add(sub(ids["suppressed"], "email", "SUBSCRIBED"))
        session.add(sub(ids["phone_only"], "sms", "SUBSCRIBED"))
        session.add(
            EmailSuppression(
                account_id=account.id,
                profile_id=ids["suppressed"],
                reason="HARD_BOUNCE",
                timestamp=NOW - dt.timedelta(days=10),
            )
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
        (_consent("email", True, "subscribed", _double(True)), {"subscribed"}),
        (_consent("email", True, "subscribed", _double(False)), set()),
        (_consent("email", True, "any", {"field": "status_date", "filter": LAST_WEEK}), {"subscribed"}),
        (_consent("email", False, "any", {"field": "bounce_date", "filter": LAST_MONTH}), {"suppressed"}),
        (_consent("email", False, "any", {"field": "bounce_date", "filter": LAST_WEEK}), set()),
        (_consent("email", True, "any", {"field": "method", "method": "api"}), {"subscribed"}),
        (_consent("email", True, "any", {"field": "method", "method": "form"}), set()),
        (
            _consent(
                "email", False, "unsubscribed", {"field": "subscribe_method", "method": "preference_page"}
            ),
            {"unsubscribed"},
        ),
        (
            _consent(
                "email",
                True,
                "subscribed",
                {
                    "field": "custom_source",
                    "filter": {"type": "string", "operator": "equals", "value": "footer FORM"},
                },
            ),
            {"subscribed"},
        ),
        (
            _consent(
                "email",
                True,
                "subscribed",
                {
                    "field": "custom_source",
                    "filter": {"type": "string", "operator": "equals", "value": "Popup"},
                },
            ),
            set(),
        ),
        (
            _consent(
                "email",
                False,
                "any",
                {"field": "bounce_date", "filter": {"type": "existence", "operator": "is-set"}},
            ),
            {"suppressed"},
        ),
    ],
)
def test_consent_condition(db, people, condition: dict[str, Any], expected: set[str]) -> None:  # type: ignore[no-untyped-def]
    account_id, ids = people
    definition = SegmentDefinition.model_validate({"condition_groups": [{"conditions": [condition]}]})
    with db.read() as session:
        predicate = compiler.compile_definition(sql.Context(session, account_id, NOW), definition)
        got = set(
            session.execute(select(Profile.id).where(Profile.account_id == account_id, predicate)).scalars()
        )
    assert got == {ids[name] for name in expected}


def test_phone_country_code(db) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_account
    from tidings.db.ids import ulid
    from tidings.profiles.tables import Profile
    from tidings.segments import compiler, sql
    from tidings.segments.definition import SegmentDefinition

    account = make_account(db)
    us, uk, none = ulid(), ulid(), ulid()
    with db.write() as session:
        session.add(Profile(account_id=account.id, id=us, phone_number="+16175550100", properties={}))
        session.add(Profile(account_id=account.id, id=uk, phone_number="+447700900123", properties={}))
        session.add(Profile(account_id=account.id, id=none, email=f"{none}@example.com", properties={}))

    def members(operator: str, regions: list[str]) -> set[str]:
        condition = {
            "type": "profile-property",
            "property": "phone_number",
            "filter": {"type": "string", "operator": operator, "value": regions},
        }
        definition = SegmentDefinition.model_validate({"condition_groups": [{"conditions": [condition]}]})
        with db.read() as session:
            ctx = sql.Context(session, account.id, NOW)
            predicate = compiler.compile_definition(ctx, definition)
            stmt = select(Profile.id).where(Profile.account_id == account.id, predicate)
            return set(session.execute(stmt).scalars())

    assert members("phone-country-code-in", ["US"]) == {us}
    assert members("phone-country-code-in", ["gb", "US"]) == {us, uk}
    assert members("phone-country-code-not-in", ["US"]) == {uk, none}


@pytest.mark.parametrize(
    ("item", "where"),
    [
        ({"field": "custom_source", "filter": {"type": "string"}}, "/filter"),
        (
            {
                "field": "method",
                "method": "form",
                "filter": {"type": "string", "operator": "in", "value": ["f1"]},
            },
            "/filter",
        ),
        ({"field": "opt_in_source"}, "/field"),
    ],
)
def test_consent_filters_not_computed_are_refused(db, item: dict[str, Any], where: str) -> None:  # type: ignore[no-untyped-def]
    condition = _consent("email", True, "subscribed", item)
    definition = SegmentDefinition.model_validate({"condition_groups": [{"conditions": [condition]}]})
    with db.read() as session, pytest.raises(sql.Unsupported) as caught:
        compiler.compile_definition(sql.Context(session, "nobody", NOW), definition)
    assert caught.value.where == "/condition_groups/0/conditions/0/consent/consent_status/filters/0" + where
