"""The `subscriptions` additional field of a profile, in Klaviyo's shape."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.consent.policy import Channel, ConsentState, Purpose, decide, load_states
from tidings.consent.tables import EmailSuppression, ListSuppression, Subscription
from tidings.jsonapi.documents import iso


def _base(row: Subscription | None) -> dict[str, Any]:
    return {
        "consent": row.consent if row else "NEVER_SUBSCRIBED",
        "consent_timestamp": iso(row.consent_timestamp) if row else None,
        "last_updated": iso(row.last_updated) if row else None,
        "method": row.method if row else None,
        "method_detail": (row.method_detail or "") if row else "",
    }


def subscriptions_for(
    session: Session, account_id: str, profile_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    ids = sorted(set(profile_ids))
    if not ids:
        return {}
    states = load_states(session, account_id, ids)
    rows: dict[tuple[str, str, str], Subscription] = {}
    for row in session.execute(
        select(Subscription).where(Subscription.account_id == account_id, Subscription.profile_id.in_(ids))
    ).scalars():
        rows[(row.profile_id, row.channel, row.purpose)] = row
    suppressions: dict[str, list[dict[str, Any]]] = {}
    for supp in session.execute(
        select(EmailSuppression)
        .where(EmailSuppression.account_id == account_id, EmailSuppression.profile_id.in_(ids))
        .order_by(EmailSuppression.timestamp)
    ).scalars():
        suppressions.setdefault(supp.profile_id, []).append(
            {"reason": supp.reason, "timestamp": iso(supp.timestamp)}
        )
    list_suppressions: dict[str, list[dict[str, Any]]] = {}
    for lsupp in session.execute(
        select(ListSuppression)
        .where(ListSuppression.account_id == account_id, ListSuppression.profile_id.in_(ids))
        .order_by(ListSuppression.timestamp)
    ).scalars():
        list_suppressions.setdefault(lsupp.profile_id, []).append(
            {"list_id": lsupp.list_id, "reason": lsupp.reason, "timestamp": iso(lsupp.timestamp)}
        )
    out: dict[str, dict[str, Any]] = {}
    for pid in ids:
        state = states.get(pid) or ConsentState()
        email = rows.get((pid, "email", "marketing"))
        sms = rows.get((pid, "sms", "marketing"))
        sms_tx = rows.get((pid, "sms", "transactional"))
        push = rows.get((pid, "mobile_push", "marketing"))
        out[pid] = {
            "email": {
                "marketing": {
                    "can_receive_email_marketing": decide(state, Channel.EMAIL, Purpose.MARKETING).allowed,
                    **_base(email),
                    "custom_method_detail": email.custom_method_detail if email else None,
                    "double_optin": email.double_optin if email else None,
                    "suppression": suppressions.get(pid, []),
                    "list_suppressions": list_suppressions.get(pid, []),
                }
            },
            "sms": {
                "marketing": {
                    "can_receive_sms_marketing": decide(state, Channel.SMS, Purpose.MARKETING).allowed,
                    **_base(sms),
                },
                "transactional": {
                    "can_receive_sms_transactional": decide(
                        state, Channel.SMS, Purpose.TRANSACTIONAL
                    ).allowed,
                    **_base(sms_tx),
                },
            },
            "mobile_push": {
                "marketing": {
                    "can_receive_push_marketing": decide(state, Channel.PUSH, Purpose.MARKETING).allowed,
                    "consent": _push_consent(push, state),
                    "consent_timestamp": iso(push.consent_timestamp) if push else None,
                }
            },
        }
    return out


def _push_consent(row: Subscription | None, state: ConsentState) -> str:
    if row is not None:
        return row.consent
    return "SUBSCRIBED" if state.push_statuses & {"AUTHORIZED", "PROVISIONAL"} else "NEVER_SUBSCRIBED"
