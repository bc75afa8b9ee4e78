"""profile-marketing-consent conditions, compiled with the same rules as `may_receive`
(tidings.consent.policy.decide) for marketing: email needs an address, no suppression and not
UNSUBSCRIBED; SMS needs a phone number and SUBSCRIBED; push needs an enabled token and not
UNSUBSCRIBED. The subscription status is the stored consent (no row: never subscribed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, literal, not_, select

from tidings.consent.policy import ENABLED_PUSH, Channel, Consent, Purpose
from tidings.consent.tables import EmailSuppression, PushToken, Subscription
from tidings.profiles.tables import Profile
from tidings.segments import definition as d

CHANNELS = {"email": Channel.EMAIL, "sms": Channel.SMS, "push": Channel.PUSH}
STATUS = {
    "subscribed": Consent.SUBSCRIBED.value,
    "unsubscribed": Consent.UNSUBSCRIBED.value,
    "never_subscribed": Consent.NEVER_SUBSCRIBED.value,
}


def consent_condition(ctx: Any, c: d.ProfileMarketingConsentCondition) -> Any:
    from tidings.segments.compiler import Unsupported, definite

    spec = c.consent
    if spec.consent_status.filters:
        raise Unsupported("Consent sub-filters are not computed yet.", "/consent/consent_status/filters")
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
    if status == "any":
        return receives
    return and_(receives, definite(consent == STATUS[status]))
