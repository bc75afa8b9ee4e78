"""An account's sending settings (`/api/x-tidings/sending-settings`): the smart sending window of
each channel and the SMS quiet hours. One resource per account, its id the account's id; an
account that never changed them has Klaviyo's defaults (email 16 hours, SMS and push 24 hours;
quiet hours 21:00 to 08:00 in the recipient's time).

A window applies to the attempts made while it is set: each attempt stores the end of its window
(`message_sends.smart_until`), so shortening a window holds back nobody less than the window they
were sent under, as Klaviyo's help centre says ("updating the Smart Sending window does not
retroactively affect recipients").
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.dialect import upsert
from tidings.delivery.schemas import SendingSettingAttributes
from tidings.delivery.tables import Channel, SendingSetting
from tidings.jsonapi.errors import InvalidInput

DEFAULT_HOURS = {Channel.EMAIL: 16, Channel.SMS: 24, Channel.PUSH: 24}
DEFAULT_QUIET = (dt.time(21, 0), dt.time(8, 0))
LONGEST_WINDOW = dt.timedelta(hours=720)  # the schema's bound: how far back the gate looks


@dataclass(frozen=True)
class SendingSettings:
    smart_sending_hours: dict[Channel, int]
    quiet_start: dt.time
    quiet_end: dt.time

    def window(self, channel: Channel) -> dt.timedelta:
        return dt.timedelta(hours=self.smart_sending_hours[channel])

    def attributes(self) -> dict[str, object]:
        return {
            "smart_sending_hours": {c.value: h for c, h in self.smart_sending_hours.items()},
            "sms_quiet_hours": {"start": _clock(self.quiet_start), "end": _clock(self.quiet_end)},
        }


DEFAULTS = SendingSettings(dict(DEFAULT_HOURS), *DEFAULT_QUIET)
CACHE_SECONDS = 5.0
_recent: dict[str, tuple[float, SendingSettings]] = {}  # account -> (until when, settings)


def get_settings(session: Session, account_id: str) -> SendingSettings:
    """The account's settings as stored now (not the workers' recent copy)."""
    _recent.pop(account_id, None)
    return settings_of(session, [account_id])[account_id]


def settings_of(session: Session, account_ids: Iterable[str]) -> dict[str, SendingSettings]:
    """The settings of each account (the defaults where it has no row), in one query for those
    not read in the last few seconds: every claim of the delivery workers asks, and a change
    made in another process may take that long to apply (Klaviyo's does not apply at once either)."""
    now = time.monotonic()
    found: dict[str, SendingSettings] = {}
    missing: set[str] = set()
    for account_id in set(account_ids):
        cached = _recent.get(account_id)
        if cached is not None and cached[0] > now:
            found[account_id] = cached[1]
        else:
            missing.add(account_id)
    if missing:
        read = dict.fromkeys(missing, DEFAULTS)
        rows = session.execute(select(SendingSetting).where(SendingSetting.account_id.in_(missing)))
        for row in rows.scalars():
            read[row.account_id] = _from_row(row)
        for account_id, settings in read.items():
            _recent[account_id] = (now + CACHE_SECONDS, settings)
        found.update(read)
    return found


def update_settings(session: Session, account_id: str, changes: SendingSettingAttributes) -> SendingSettings:
    """Apply what is given (a window not given keeps its value)."""
    current = get_settings(session, account_id)
    hours = dict(current.smart_sending_hours)
    if changes.smart_sending_hours is not None:
        given = changes.smart_sending_hours.model_dump(exclude_unset=True)
        for name, value in given.items():
            if value is None:
                raise InvalidInput(
                    f"The {name} window must be a number of hours from 1 to 720.",
                    pointer=f"/data/attributes/smart_sending_hours/{name}",
                )
            hours[Channel(name)] = value
    quiet_start, quiet_end = current.quiet_start, current.quiet_end
    if changes.sms_quiet_hours is not None:
        quiet_start = dt.time.fromisoformat(changes.sms_quiet_hours.start)
        quiet_end = dt.time.fromisoformat(changes.sms_quiet_hours.end)
        if quiet_start == quiet_end:
            raise InvalidInput(
                "Quiet hours must start and end at different times.",
                pointer="/data/attributes/sms_quiet_hours/end",
            )
    updated = SendingSettings(hours, quiet_start, quiet_end)
    _recent.pop(account_id, None)  # this process applies it at once
    values = {
        "account_id": account_id,
        "email_smart_sending_hours": hours[Channel.EMAIL],
        "sms_smart_sending_hours": hours[Channel.SMS],
        "push_smart_sending_hours": hours[Channel.PUSH],
        "sms_quiet_hours_start": _clock(quiet_start),
        "sms_quiet_hours_end": _clock(quiet_end),
        "updated": utcnow(),
    }
    table: Table = SendingSetting.__table__  # type: ignore[assignment]
    session.execute(
        upsert(session, table, [values], ["account_id"], [k for k in values if k != "account_id"])
    )
    return updated


def _from_row(row: SendingSetting) -> SendingSettings:
    return SendingSettings(
        {
            Channel.EMAIL: row.email_smart_sending_hours,
            Channel.SMS: row.sms_smart_sending_hours,
            Channel.PUSH: row.push_smart_sending_hours,
        },
        dt.time.fromisoformat(row.sms_quiet_hours_start),
        dt.time.fromisoformat(row.sms_quiet_hours_end),
    )


def _clock(value: dt.time) -> str:
    return value.strftime("%H:%M")
