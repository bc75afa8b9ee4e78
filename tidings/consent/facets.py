"""What consent adds to a profile as the API shows it: the `subscriptions` additional field,
the filters and sorts on suppressions (registered on `tidings.profiles.facets` by the
composition root)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, func, select

from tidings.consent.render import subscriptions_for
from tidings.consent.tables import EmailSuppression, ListSuppression
from tidings.jsonapi.filters import FilterField, compare
from tidings.profiles.facets import AdditionalField, SortField
from tidings.profiles.tables import Profile

SUBSCRIPTIONS = AdditionalField("subscriptions", subscriptions_for)


def _suppression(column: Any, entity: Any) -> Any:
    def build(op: str, value: Any) -> ColumnElement[bool]:
        return exists().where(
            entity.account_id == Profile.account_id,
            entity.profile_id == Profile.id,
            compare(op, "subscriptions", column, value),
        )

    return build


SUPPRESSION_FILTERS: dict[str, FilterField] = {
    "subscriptions.email.marketing.suppression.reason": FilterField(
        build=_suppression(EmailSuppression.reason, EmailSuppression)
    ),
    "subscriptions.email.marketing.suppression.timestamp": FilterField(
        kind="datetime", build=_suppression(EmailSuppression.timestamp, EmailSuppression)
    ),
    "subscriptions.email.marketing.list_suppressions.reason": FilterField(
        build=_suppression(ListSuppression.reason, ListSuppression)
    ),
    "subscriptions.email.marketing.list_suppressions.list_id": FilterField(
        build=_suppression(ListSuppression.list_id, ListSuppression)
    ),
    "subscriptions.email.marketing.list_suppressions.timestamp": FilterField(
        kind="datetime", build=_suppression(ListSuppression.timestamp, ListSuppression)
    ),
}


def _latest(entity: Any) -> Any:
    return (
        select(func.max(entity.timestamp))
        .where(entity.account_id == Profile.account_id, entity.profile_id == Profile.id)
        .scalar_subquery()
    )


SUPPRESSION_SORTS = (
    SortField("subscriptions.email.marketing.suppression.timestamp", lambda: _latest(EmailSuppression)),
    SortField("subscriptions.email.marketing.list_suppressions.timestamp", lambda: _latest(ListSuppression)),
)
