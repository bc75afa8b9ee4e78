"""A/B tests of a campaign message: a message with more than one variation (`variants.py`).

The send plans, in set-based statements, a test share of the audience split evenly between the
variations and holds the rest:

- The audience, each profile once, is numbered in the order of the random part of its ULID id
  (characters 17 to 26: the id's own hash, deterministic and independent of when the profile
  was made), ties by id. Row n (from 0) is in the test when n < T, T = the test share of the
  audience rounded up (at least one per variation while there are people), and gets variation
  n mod V: the groups differ by one at most, and the same audience always splits the same way.
- The test rows are planned with their variation in their context (`$variation`, what the
  resolver renders and every event then carries); the rest are planned held
  (`delivery.by_source.HELD_UNTIL`, never due), so the ledger's key per campaign message and
  profile stands and nobody can get two variations.
- A durable job (`campaigns.ab_winner`) runs `winner_wait_hours` after the test's due time,
  picks the variation with the best rate of the winner metric among its test rows that went out
  (`opens_unique`: rows opened / rows sent; `clicks_unique`: clicked / sent; a tie, or no data:
  the earliest variation), records it on the message and releases the held rows, due at once
  with the winner's variation.

Settings are SDK 25's `definition.ab_test` of the message (`winner_metric`, `winner_percentage`:
the share that gets the winner, `winner_wait_hours`), with Tidings' defaults where unset.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from tidings.campaigns.tables import Campaign, CampaignMessage
from tidings.campaigns.variants import all_of
from tidings.db.dialect import json_text
from tidings.delivery import by_source
from tidings.delivery import service as delivery
from tidings.delivery.by_source import HELD_UNTIL
from tidings.delivery.service import CampaignMessageSource
from tidings.delivery.tables import Channel, MessageSend, SendStatus, SourceKind
from tidings.jobs.queue import enqueue

WINNER_JOB = "campaigns.ab_winner"
METRICS = ("opens_unique", "clicks_unique")  # SDK 25 also names placed_orders_unique: not built
DEFAULTS: dict[str, Any] = {"winner_metric": "opens_unique", "winner_percentage": 80, "winner_wait_hours": 6}
WENT_OUT = (SendStatus.SENT, SendStatus.UNKNOWN)
SENDS = MessageSend.__table__


def settings(message: CampaignMessage) -> dict[str, Any]:
    """The message's A/B settings, Tidings' defaults where unset."""
    given = {key: value for key, value in (message.ab_test or {}).items() if value is not None}
    return {**DEFAULTS, **given}


def test_size(total: int, variations: int, winner_percentage: int) -> int:
    """How many of `total` people are in the test: the test share rounded up, at least one per
    variation while there are people."""
    share = math.ceil(total * (100 - winner_percentage) / 100)
    return min(total, max(share, variations))


def decides_at(message: CampaignMessage, test_due: dt.datetime) -> dt.datetime:
    return test_due + dt.timedelta(hours=int(settings(message)["winner_wait_hours"]))


def plan_test(
    session: Session,
    campaign: Campaign,
    message: CampaignMessage,
    profiles: Select[Any],
    *,
    channel: Channel,
    domain: str,
    at: dt.datetime,
    planned_at: dt.datetime,
) -> None:
    """The test rows (each with its variation) and the held rest into the ledger; the winner's job."""
    account_id = campaign.account_id
    ids = [found.id for found in all_of(session, message)]
    chosen = profiles.subquery("audience")
    unique = select(next(iter(chosen.c)).label("profile_id")).distinct().subquery("unique_audience")
    total = int(session.execute(select(func.count()).select_from(unique)).scalar_one())
    size = test_size(total, len(ids), int(settings(message)["winner_percentage"]))
    order = (func.substr(unique.c.profile_id, 17), unique.c.profile_id)
    numbered = select(unique.c.profile_id, (func.row_number().over(order_by=order) - 1).label("n")).subquery(
        "numbered"
    )
    source = CampaignMessageSource(message.id)
    for index, variation_id in enumerate(ids):
        group = select(numbered.c.profile_id).where(numbered.c.n < size, numbered.c.n % len(ids) == index)
        delivery.plan_many(
            session,
            account_id,
            source=source,
            profiles=group,
            channel=channel,
            domain=domain,
            planned_for=at,
            context={"$variation": variation_id},
        )
    rest = select(numbered.c.profile_id).where(numbered.c.n >= size)
    delivery.plan_many(
        session,
        account_id,
        source=source,
        profiles=rest,
        channel=channel,
        domain=domain,
        planned_for=HELD_UNTIL,
    )
    message.winner_id = None
    message.winner_at = None
    payload = {"campaign_id": campaign.id, "message_id": message.id, "planned_at": planned_at.isoformat()}
    enqueue(session, WINNER_JOB, payload, account_id=account_id, run_at=decides_at(message, at))


@dataclass
class VariationResult:
    """What became of one variation's rows: by ledger status, and how many were opened, clicked."""

    variation_id: str
    statuses: dict[str, int] = field(default_factory=dict)
    opened: int = 0
    clicked: int = 0

    @property
    def sent(self) -> int:
        return sum(self.statuses.get(status, 0) for status in WENT_OUT)

    def rate(self, metric: str) -> float:
        hits = self.opened if metric == "opens_unique" else self.clicked
        return hits / self.sent if self.sent else 0.0


def results(session: Session, message: CampaignMessage) -> list[VariationResult]:
    """Each variation's rows (in the variations' order); held rows are counted under no variation."""
    ids = [found.id for found in all_of(session, message)]
    found = {variation_id: VariationResult(variation_id) for variation_id in ids}
    variation = json_text(session, SENDS.c.context, "$variation")
    query = (
        select(
            variation,
            SENDS.c.status,
            func.count(),
            func.sum(case((SENDS.c.opened_at.is_not(None), 1), else_=0)),
            func.sum(case((SENDS.c.clicked_at.is_not(None), 1), else_=0)),
        )
        .where(
            and_(
                SENDS.c.account_id == message.account_id,
                SENDS.c.source_kind == SourceKind.CAMPAIGN_MESSAGE.value,
                SENDS.c.source_id == message.id,
            )
        )
        .group_by(variation, SENDS.c.status)
    )
    for variation_id, status, rows, opened, clicked in session.execute(query):
        result = found.get(str(variation_id)) if variation_id is not None else None
        if result is None:
            continue
        result.statuses[str(status)] = result.statuses.get(str(status), 0) + int(rows)
        result.opened += int(opened or 0)
        result.clicked += int(clicked or 0)
    return [found[variation_id] for variation_id in ids]


def metric_of(message: CampaignMessage) -> str:
    """The metric that picks the winner; SMS and push have no opens, so their clicks do."""
    metric = str(settings(message)["winner_metric"])
    return metric if message.channel == "email" else "clicks_unique"


def pick(found: list[VariationResult], metric: str) -> str:
    """The best rate wins; on a tie the earlier variation (the default one first)."""
    best = max(range(len(found)), key=lambda i: (found[i].rate(metric), -i))
    return found[best].variation_id


def decide(session: Session, message: CampaignMessage, now: dt.datetime) -> str:
    """The winner chosen from the test's rows, recorded; the held rest released to it, due now."""
    winner = pick(results(session, message), metric_of(message))
    message.winner_id = winner
    message.winner_at = now
    by_source.release_held(
        session,
        message.account_id,
        source=CampaignMessageSource(message.id),
        planned_for=now,
        context={"$variation": winner},
    )
    return winner


def held(session: Session, message: CampaignMessage) -> int:
    """How many of the message's rows wait for the test's winner."""
    query = select(func.count()).where(
        SENDS.c.account_id == message.account_id,
        SENDS.c.source_kind == SourceKind.CAMPAIGN_MESSAGE.value,
        SENDS.c.source_id == message.id,
        SENDS.c.status == SendStatus.PLANNED,
        SENDS.c.planned_for == HELD_UNTIL,
    )
    return int(session.execute(query).scalar_one())


def report(session: Session, message: CampaignMessage) -> dict[str, Any]:
    """The test as the send job's `meta` shows it: settings, winner, held rows, each variation."""
    metric = metric_of(message)
    return {
        "message": message.id,
        **settings(message),
        "winner_metric": metric,
        "winner": message.winner_id,
        "decided_at": message.winner_at.isoformat() if message.winner_at is not None else None,
        "held": held(session, message),
        "variations": [
            {
                "id": result.variation_id,
                "sends": result.statuses,
                "opens_unique": result.opened,
                "clicks_unique": result.clicked,
                "open_rate": result.rate("opens_unique"),
                "click_rate": result.rate("clicks_unique"),
            }
            for result in results(session, message)
        ],
    }
