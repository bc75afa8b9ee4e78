"""Scheduling in the omni shape (SDK 25): `schedule_campaign`, `schedule_campaign_message` and
`update_campaign_message_schedule`.

A message schedule is one of the stable send strategies under the omni names (`static`,
`local_timezone`, `throttled`, `smart_send_time`); scheduling stores it as the campaign's
strategy and asks for the send, as `create_campaign_send_job` does (`sending.request_send`): the
recipients are decided at once and each gets the message at its due time. Tidings' campaigns have
one message, so a campaign's schedule is its message's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tidings.campaigns import repository, schedule, sending
from tidings.campaigns.schemas import (
    StaticOptions,
    StaticSendStrategy,
    ThrottledSendStrategy,
)
from tidings.campaigns.schemas_jobs import InlineMessageSchedule, MessageSchedule
from tidings.campaigns.service import (
    check_editable,
    get_campaign,
    get_message,
    send_time_of,
    strategy_document,
)
from tidings.campaigns.tables import Campaign, CampaignMessage, CampaignSendJob
from tidings.db.base import utcnow
from tidings.jsonapi.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class Scheduled:
    """A scheduled message, as the response shows it."""

    message_id: str
    strategy: str  # the omni name
    document: dict[str, Any]  # the stored (stable) strategy

    def attributes(self) -> dict[str, Any]:
        throttled = self.document.get("method") == "throttled"
        send_date = self.document.get("date")
        return {
            "send_time": self.document.get("datetime"),
            "send_date": send_date,
            "strategy": self.strategy,
            "throttling_percentage": self.document.get("throttle_percentage") if throttled else None,
            "throttle_unit": "hour" if throttled else None,
        }


def strategy_of(given: MessageSchedule, base: str) -> dict[str, Any]:
    """The stable strategy of an omni message schedule; each missing or bad part a 400 at its pointer."""
    if given.strategy == "smart_send_time":
        if given.send_date is None:
            raise InvalidInput("A smart send time schedule needs a send_date.", pointer=f"{base}/send_date")
        document: dict[str, Any] = {"method": "smart_send_time", "date": given.send_date.isoformat()}
    else:
        if given.send_time is None:
            raise InvalidInput(f"A {given.strategy} schedule needs a send_time.", pointer=f"{base}/send_time")
        if given.strategy == "throttled":
            options = given.throttled_options
            if options is None:
                raise InvalidInput(
                    "A throttled schedule needs throttled_options.", pointer=f"{base}/throttled_options"
                )
            if options.throttle_unit == "minute":
                raise InvalidInput(
                    "Tidings throttles by the hour; a throttle_unit of 'minute' is not built.",
                    pointer=f"{base}/throttled_options/throttle_unit",
                )
            document = strategy_document(
                ThrottledSendStrategy(
                    method="throttled",
                    datetime=given.send_time,
                    throttle_percentage=options.throttling_percentage,
                )
            )
        else:
            local = given.strategy == "local_timezone"
            tomorrow = bool(given.timezone_options and given.timezone_options.send_past_timezones_tomorrow)
            options_ = (
                StaticOptions(is_local=True, send_past_recipients_immediately=not tomorrow) if local else None
            )
            document = strategy_document(
                StaticSendStrategy(method="static", datetime=given.send_time, options=options_)
            )
    if schedule.in_the_past(document, utcnow()):
        key = "send_date" if given.strategy == "smart_send_time" else "send_time"
        raise InvalidInput(
            "The send time is in the past; choose a time in the future.", pointer=f"{base}/{key}"
        )
    return document


def _schedule(
    session: Session, campaign: Campaign, message: CampaignMessage, given: MessageSchedule, base: str
) -> tuple[CampaignSendJob, Scheduled]:
    check_editable(campaign)
    document = strategy_of(given, base)
    campaign.send_strategy = document
    campaign.send_time = send_time_of(document)
    campaign.updated_at = utcnow()
    session.flush()
    job = sending.request_send(session, campaign.account_id, campaign.id)
    return job, Scheduled(message.id, given.strategy, document)


def schedule_campaign(
    session: Session, account_id: str, campaign_id: str, schedules: list[InlineMessageSchedule]
) -> tuple[CampaignSendJob, list[Scheduled]]:
    """`schedule_campaign`: every message of the campaign (Tidings: its one) with its schedule."""
    try:
        campaign = get_campaign(session, account_id, campaign_id)
    except NotFound as missing:
        raise NotFound(
            f"A campaign with id {campaign_id} does not exist.",
            pointer="/data/relationships/campaign/data/id",
        ) from missing
    messages = repository.messages_of(session, account_id, [campaign.id])[campaign.id]
    by_id = {message.id: message for message in messages}
    base = "/data/attributes/message_schedules"
    for index, given in enumerate(schedules):
        if given.message_id not in by_id:
            raise InvalidInput(
                f"Message {given.message_id} is not a message of this campaign.",
                pointer=f"{base}/{index}/message_id",
            )
    named = [given.message_id for given in schedules]
    if len(set(named)) != len(named) or set(named) != set(by_id):
        raise InvalidInput("Give each message of the campaign one schedule.", pointer=base)
    job, scheduled = _schedule(session, campaign, by_id[schedules[0].message_id], schedules[0], f"{base}/0")
    return job, [scheduled]


def schedule_message(
    session: Session, account_id: str, message_id: str, given: MessageSchedule
) -> tuple[CampaignSendJob, Scheduled]:
    """`schedule_campaign_message`: the message (so its campaign, Tidings' having one) scheduled."""
    try:
        message = get_message(session, account_id, message_id)
    except NotFound as missing:
        raise NotFound(
            f"A campaign message with id {message_id} does not exist.",
            pointer="/data/relationships/campaign-message/data/id",
        ) from missing
    campaign = get_campaign(session, account_id, message.campaign_id)
    return _schedule(session, campaign, message, given, "/data/attributes")


def update_message_schedule(
    session: Session, account_id: str, message_id: str, action: str
) -> CampaignSendJob:
    """`update_campaign_message_schedule`: cancel or revert the message's (its campaign's) send."""
    message = get_message(session, account_id, message_id)
    return sending.cancel_send(session, account_id, message.campaign_id, action)
