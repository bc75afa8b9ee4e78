"""A profile's `predictive_analytics` additional field, computed from its events.

The historic values come from its `Placed Order` events, as segments compute them
(tidings/segments/compiler.py); the predicted ones need a model Tidings does not have and
stay null.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tidings.events.repository import order_history
from tidings.profiles.facets import AdditionalField

PREDICTIVE_FIELDS = (
    "historic_clv",
    "predicted_clv",
    "total_clv",
    "historic_number_of_orders",
    "predicted_number_of_orders",
    "average_days_between_orders",
    "average_order_value",
    "churn_probability",
    "expected_date_of_next_order",
    "ranked_channel_affinity",
)


def predictive_of(session: Session, account_id: str, profile_ids: list[str]) -> dict[str, Any]:
    history = order_history(session, account_id, profile_ids)
    out: dict[str, Any] = {}
    for profile_id in profile_ids:
        values: dict[str, Any] = dict.fromkeys(PREDICTIVE_FIELDS)
        count, total, first, last = history.get(profile_id, (0, 0.0, None, None))
        values["historic_number_of_orders"] = count
        values["historic_clv"] = round(total, 2)
        if count:
            values["average_order_value"] = round(total / count, 2)
        if count > 1 and first is not None and last is not None:
            values["average_days_between_orders"] = round(
                (last - first).total_seconds() / 86400 / (count - 1), 2
            )
        out[profile_id] = values
    return out


PREDICTIVE_ANALYTICS = AdditionalField("predictive_analytics", predictive_of)
