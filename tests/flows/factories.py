"""Flow definitions for the tests: the seeds' abandoned-cart flow and small helpers."""

from __future__ import annotations

from typing import Any

from tests.events.factories import make_events, metric_id


def metric(db, account_id: str, name: str) -> str:  # type: ignore[no-untyped-def]
    """A metric of the account (made by writing one event of it)."""
    make_events(db, account_id, [{"metric": name, "properties": {"p": 1}}])
    return metric_id(db, account_id, name)


def abandoned_cart(
    added_to_cart: str, placed_order: str, template_us: str, template_other: str
) -> dict[str, Any]:
    """One hour after Added to Cart, only if no order since the flow started: US people get one
    email, everyone else another."""
    return {
        "triggers": [{"type": "metric", "id": added_to_cart}],
        "profile_filter": None,
        "entry_action_id": "wait",
        "reentry_criteria": {"duration": 1, "unit": "day"},
        "actions": [
            {
                "temporary_id": "wait",
                "type": "time-delay",
                "links": {"next": "ordered"},
                "data": {"unit": "hours", "value": 1},
            },
            {
                "temporary_id": "ordered",
                "type": "conditional-split",
                "links": {"next_if_true": "where", "next_if_false": None},
                "data": {
                    "profile_filter": {
                        "condition_groups": [
                            {
                                "conditions": [
                                    {
                                        "type": "profile-metric",
                                        "metric_id": placed_order,
                                        "measurement": "count",
                                        "measurement_filter": {
                                            "type": "numeric",
                                            "operator": "equals",
                                            "value": 0,
                                        },
                                        "timeframe_filter": {"type": "date", "operator": "flow-start"},
                                    }
                                ]
                            }
                        ]
                    }
                },
            },
            {
                "temporary_id": "where",
                "type": "conditional-split",
                "links": {"next_if_true": "email-us", "next_if_false": "email-other"},
                "data": {
                    "profile_filter": {
                        "condition_groups": [
                            {
                                "conditions": [
                                    {
                                        "type": "profile-property",
                                        "property": "location['country']",
                                        "filter": {
                                            "type": "string",
                                            "operator": "equals",
                                            "value": "United States",
                                        },
                                    }
                                ]
                            }
                        ]
                    }
                },
            },
            email("email-us", template_us, "Your cart misses you"),
            email("email-other", template_other, "Still thinking it over?"),
        ],
    }


def email(
    temporary_id: str, template_id: str | None, subject: str, next_id: str | None = None
) -> dict[str, Any]:
    return {
        "temporary_id": temporary_id,
        "type": "send-email",
        "links": {"next": next_id},
        "data": {
            "status": "draft",
            "message": {
                "from_email": "shop@example.com",
                "from_label": "The Shop",
                "subject_line": subject,
                "template_id": template_id,
                "name": subject,
            },
        },
    }


def linear(trigger: dict[str, Any], *actions: dict[str, Any]) -> dict[str, Any]:
    return {
        "triggers": [trigger],
        "entry_action_id": actions[0]["temporary_id"] if actions else None,
        "actions": list(actions),
    }


def body(name: str, definition: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"type": "flow", "attributes": {"name": name, "definition": definition}}}
