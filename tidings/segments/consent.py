"""profile-marketing-consent conditions, compiled with the same rules as `may_receive`
(tidings.consent.policy.decide) for marketing: email needs an address, no suppression and not
UNSUBSCRIBED; SMS needs a phone number and SUBSCRIBED; push needs an enabled token and not
UNSUBSCRIBED. The subscription status is the stored consent (no row: never subscribed)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import and_, func, literal, not_, select

from tidings.consent.policy import ENABLED_PUSH, Channel, Consent, Purpose
from tidings.consent.tables import EmailSuppression, Subscription
from tidings.profiles.tables import Profile, PushToken
from tidings.segments import definition as d
from tidings.segments.sql import Unsupported, definite, instant_filter

CHANNELS = {"email": Channel.EMAIL, "sms": Channel.SMS, "push": Channel.PUSH}
STATUS = {
    "subscribed": Consent.SUBSCRIBED.value,
    "unsubscribed": Consent.UNSUBSCRIBED.value,
    "never_subscribed": Consent.NEVER_SUBSCRIBED.value,
}


def consent_condition(ctx: Any, c: d.ProfileMarketingConsentCondition) -> Any:

    spec = c.consent
    channel = CHANNELS[spec.channel]
    stored = (
        select(Subscription.consent)
        .where(
            Subscription.account_id == ctx.account_id,
            Subscription.profile_id == Profile.id,
            Subscription.channel == channel.value,
            Subscription.purpose == Purpose.MARKETING.value,
        )
        .scalar_subquery()
    )
    consent = func.coalesce(stored, literal(Consent.NEVER_SUBSCRIBED.value))
    not_unsubscribed = consent != Consent.UNSUBSCRIBED.value
    if channel is Channel.EMAIL:
        suppressed = (
            select(literal(1))
            .where(EmailSuppression.account_id == ctx.account_id, EmailSuppression.profile_id == Profile.id)
            .exists()
        )
        can = and_(Profile.email.is_not(None), not_(suppressed), not_unsubscribed)
    elif channel is Channel.SMS:
        can = and_(Profile.phone_number.is_not(None), consent == Consent.SUBSCRIBED.value)
    else:
        enabled = (
            select(literal(1))
            .where(
                PushToken.account_id == ctx.account_id,
                PushToken.profile_id == Profile.id,
                PushToken.enablement_status.in_(sorted(ENABLED_PUSH)),
            )
            .exists()
        )
        can = and_(enabled, not_unsubscribed)
    receives = definite(can) if spec.can_receive_marketing else not_(definite(can))
    status = spec.consent_status.subscription
    parts = [receives]
    if status != "any":
        parts.append(definite(consent == STATUS[status]))
    for index, item in enumerate(spec.consent_status.filters or []):
        where = f"/consent/consent_status/filters/{index}"
        try:
            parts.append(_sub_filter(ctx, channel, item))
        except Unsupported as exc:
            raise Unsupported(str(exc), f"{where}{exc.where}") from exc
        except ValidationError as exc:
            raise Unsupported(f"Invalid consent filter: {exc.errors()[0]['msg']}", f"{where}/filter") from exc
    return and_(*parts)


SUPPRESSION_FIELDS = {
    "bounce_date": "HARD_BOUNCE",
    "manual_suppression_date": "USER_SUPPRESSED",
    "invalid_email_date": "INVALID_EMAIL",
}
DATE_FILTER = TypeAdapter(
    d.filter_union(
        d.StaticDateFilter, d.StaticDateRangeFilter, d.RelativeDateFilter, d.RelativeDateRangeFilter
    )
)
_BOOLEAN = TypeAdapter(d.BooleanFilter)


def _sub_filter(ctx: Any, channel: Channel, item: dict[str, Any]) -> Any:
    """The sub-filters computed: is_double_opt_in, status_date (the consent's timestamp), the
    method the consent was given or withdrawn by (`method` / `subscribe_method`, without the
    detail filters: key digits, form ids and integrations are not recorded), `custom_source`,
    and the email suppression dates (by suppression reason); the others are refused."""

    field = item.get("field")
    subscription = [
        Subscription.account_id == ctx.account_id,
        Subscription.profile_id == Profile.id,
        Subscription.channel == channel.value,
        Subscription.purpose == Purpose.MARKETING.value,
    ]
    if field == "is_double_opt_in":
        wanted = _BOOLEAN.validate_python(item.get("filter")).value
        row = select(literal(1)).where(
            *subscription, func.coalesce(Subscription.double_optin, False) == wanted
        )
        return definite(row.exists())
    if field == "status_date":
        date = DATE_FILTER.validate_python(item.get("filter"))
        row = select(literal(1)).where(
            *subscription, instant_filter(ctx, Subscription.consent_timestamp, date)
        )
        return definite(row.exists())
    if field in SUPPRESSION_FIELDS and channel is Channel.EMAIL:
        raw = item.get("filter") or {}
        suppression = [
            EmailSuppression.account_id == ctx.account_id,
            EmailSuppression.profile_id == Profile.id,
            EmailSuppression.reason == SUPPRESSION_FIELDS[field],
        ]
        if raw.get("type") != "existence":
            suppression.append(
                instant_filter(ctx, EmailSuppression.timestamp, DATE_FILTER.validate_python(raw))
            )
        return definite(select(literal(1)).where(*suppression).exists())
    if field in ("method", "subscribe_method"):
        method = item.get("method")
        if not isinstance(method, str) or not method:
            raise Unsupported("A method filter needs its `method`.", "/method")
        if item.get("filter") is not None:
            # API key digits, form ids, the user who imported, integration details: not recorded.
            raise Unsupported(f"The detail filter of the {method!r} method is not computed.", "/filter")
        row = select(literal(1)).where(*subscription, func.upper(Subscription.method) == method.upper())
        return definite(row.exists())
    if field == "custom_source":
        raw = item.get("filter") or {}
        if raw.get("type") != "string" or raw.get("operator") != "equals":
            raise Unsupported("custom_source takes a string `equals` filter.", "/filter")
        value = raw.get("value")
        source = Subscription.custom_method_detail
        matched = source.is_(None) if value is None else func.lower(source) == str(value).lower()
        return definite(select(literal(1)).where(*subscription, matched).exists())
    raise Unsupported(f"The consent filter on {field!r} is not computed.", "/field")
