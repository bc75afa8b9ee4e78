"""The one gate before every send: consent, smart sending, quiet hours.

It runs on a batch of due rows not yet rendered (a rendered row passed it before and keeps its
verdict: a retry or a resend is the same message). Each row gets one of:

- nothing: it goes on to rendering and the provider;
- `Skip(reason)`: never sent, with the reason in Klaviyo's words;
- a time: SMS quiet hours, it waits until the recipient's morning (Klaviyo holds, not skips).

The rules, from Klaviyo's documented behaviour (klaviyo-semantics §6-7):
- consent: `tidings.consent.policy` (marketing or transactional, per channel, list suppressions);
- smart sending: a marketing message with smart sending on is skipped when the profile had an
  attempted delivery on the same channel whose window has not ended (each attempt stores the end
  of the account's window at the time: email 16 h, SMS 24 h, push 24 h unless the account's
  sending settings say otherwise), counted from the ledger (sending, sent, unknown and failed
  rows), and within the batch;
- quiet hours: an SMS marked for them (flows) waits while it is quiet hours (21:00-08:00 unless
  the account's sending settings say otherwise) where the recipient is: the phone number's time
  zone (the easternmost when the number spans several, as Klaviyo does), else the account's.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezones
from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.accounts.repository import get_account
from tidings.consent import policy
from tidings.delivery.messages import EmailDefinition, MessageDefinition, SmsDefinition
from tidings.delivery.sending_settings import LONGEST_WINDOW, SendingSettings, settings_of
from tidings.delivery.service import Skip, SkipReason
from tidings.delivery.tables import Channel, MessageSend, SendStatus

ATTEMPTED = (SendStatus.SENDING, SendStatus.SENT, SendStatus.UNKNOWN, SendStatus.FAILED)

CONSENT_CHANNEL = {
    Channel.EMAIL: policy.Channel.EMAIL,
    Channel.SMS: policy.Channel.SMS,
    Channel.PUSH: policy.Channel.PUSH,
}
MISSING = {
    Channel.EMAIL: SkipReason.MISSING_EMAIL,
    Channel.SMS: SkipReason.MISSING_PHONE_NUMBER,
    Channel.PUSH: SkipReason.MISSING_PUSH_TOKEN,
}

Verdict = Skip | dt.datetime


@dataclass(frozen=True)
class Gated:
    row: MessageSend
    definition: MessageDefinition


def check(session: Session, rows: Sequence[Gated], now: dt.datetime) -> dict[str, Verdict]:
    """The verdict of each row that does not simply go on, by send id."""
    verdicts: dict[str, Verdict] = {}
    by_group: dict[tuple[str, Channel, str, str | None], list[Gated]] = defaultdict(list)
    for item in rows:
        purpose = policy.Purpose.TRANSACTIONAL if item.definition.transactional else policy.Purpose.MARKETING
        list_id = item.definition.list_id if isinstance(item.definition, EmailDefinition) else None
        by_group[(item.row.account_id, Channel(item.row.channel), purpose.value, list_id)].append(item)
    for (account_id, channel, purpose_name, list_id), items in by_group.items():
        decisions = policy.may_receive_many(
            session,
            account_id,
            [i.row.profile_id for i in items],
            CONSENT_CHANNEL[channel],
            policy.Purpose(purpose_name),
            list_id=list_id,
            at=now,
        )
        for item in items:
            decision = decisions[item.row.profile_id]
            if not decision:
                verdicts[item.row.id] = Skip(_skip_reason(channel, decision.reason), decision.reason)
    passed = [item for item in rows if item.row.id not in verdicts]
    settings = settings_of(session, {item.row.account_id for item in passed})
    verdicts.update(_smart_sending(session, passed, now, settings))
    passed = [item for item in passed if item.row.id not in verdicts]
    verdicts.update(_quiet_hours(session, passed, now, settings))
    return verdicts


def _skip_reason(channel: Channel, reason: str) -> SkipReason:
    if reason.startswith("no ") or reason == "no such profile":
        return SkipReason.PERSON_DELETED if reason == "no such profile" else MISSING[channel]
    if reason.startswith("suppressed"):
        return SkipReason.SUPPRESSED
    return SkipReason.UNSUBSCRIBED


def _smart_sending(
    session: Session, rows: Sequence[Gated], now: dt.datetime, settings: dict[str, SendingSettings]
) -> dict[str, Verdict]:
    """Skip marketing rows whose profile had an attempted delivery on the channel lately."""
    wanted = [i for i in rows if i.definition.smart_sending and not i.definition.transactional]
    verdicts: dict[str, Verdict] = {}
    by_account: dict[tuple[str, Channel], list[Gated]] = defaultdict(list)
    for item in wanted:
        by_account[(item.row.account_id, Channel(item.row.channel))].append(item)
    for (account_id, channel), items in by_account.items():
        last: set[str] = set(
            session.execute(
                select(MessageSend.profile_id)
                .distinct()
                .where(
                    MessageSend.account_id == account_id,
                    MessageSend.channel == channel.value,
                    MessageSend.profile_id.in_({i.row.profile_id for i in items}),
                    MessageSend.status.in_([s.value for s in ATTEMPTED]),
                    MessageSend.sending_at >= now - LONGEST_WINDOW,  # the index's range
                    MessageSend.smart_until > now,
                )
            ).scalars()
        )
        taken: set[str] = set()  # profiles given a message on this channel by this batch
        for item in items:
            profile = item.row.profile_id
            if profile in last or profile in taken:
                verdicts[item.row.id] = Skip(
                    SkipReason.SMART_SENDING,
                    f"received a {channel.value} message within the smart sending window "
                    f"({settings[account_id].smart_sending_hours[channel]} hours now)",
                )
            else:
                taken.add(profile)
    # A row that is not gated by smart sending still counts as an attempt for the others.
    return verdicts


def _quiet_hours(
    session: Session, rows: Sequence[Gated], now: dt.datetime, settings: dict[str, SendingSettings]
) -> dict[str, Verdict]:
    held = [
        item
        for item in rows
        if isinstance(item.definition, SmsDefinition)
        and item.definition.quiet_hours
        and not item.definition.transactional
    ]
    by_account: dict[str, list[Gated]] = defaultdict(list)
    for item in held:
        by_account[item.row.account_id].append(item)
    verdicts: dict[str, Verdict] = {}
    for account_id, items in by_account.items():
        account = get_account(session, account_id)
        fallback = account.timezone if account is not None else "UTC"
        states = policy.load_states(session, account_id, [i.row.profile_id for i in items])
        for item in items:
            state = states.get(item.row.profile_id)
            zone = recipient_zone(state.phone_number if state is not None else None, fallback)
            resume = quiet_until(now, zone, settings[account_id].quiet_start, settings[account_id].quiet_end)
            if resume is not None:
                verdicts[item.row.id] = resume
    return verdicts


def recipient_zone(phone_number: str | None, fallback: str) -> ZoneInfo:
    """The phone number's time zone (the easternmost of several), else the fallback's."""
    if phone_number:
        try:
            parsed = phonenumbers.parse(phone_number, None)
            names = [n for n in phone_timezones.time_zones_for_number(parsed) if n != "Etc/Unknown"]
        except phonenumbers.NumberParseException:
            names = []
        zones = [_zone(n) for n in names]
        known = [z for z in zones if z is not None]
        if known:
            reference = dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC)
            return max(known, key=lambda z: reference.astimezone(z).utcoffset() or dt.timedelta())
    return _zone(fallback) or ZoneInfo("UTC")


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def quiet_until(
    now: dt.datetime, zone: ZoneInfo, starts: dt.time = dt.time(21, 0), ends: dt.time = dt.time(8, 0)
) -> dt.datetime | None:
    """When quiet hours (from `starts` to `ends`, across midnight when `starts` is later) end, if
    `now` falls in them where `zone` is; None when it does not."""
    local = now.astimezone(zone)
    clock = local.time()
    overnight = starts > ends
    quiet = (clock >= starts or clock < ends) if overnight else (starts <= clock < ends)
    if not quiet:
        return None
    day = local.date() + dt.timedelta(days=1) if overnight and clock >= starts else local.date()
    return dt.datetime.combine(day, ends, tzinfo=zone).astimezone(dt.UTC)
