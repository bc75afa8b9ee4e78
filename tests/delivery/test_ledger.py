"""Each transition of the send ledger, and every transition it refuses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from tests.conftest import make_account
from tests.delivery.fakes import DOMAIN, CountingRenderer, FakeProvider, plan_send
from tidings import domains
from tidings.db.base import set_clock, utcnow
from tidings.db.ids import ulid
from tidings.db.session import Database
from tidings.delivery import jobs as delivery_jobs
from tidings.delivery import service
from tidings.delivery.provider import PermanentSendError, RetryableSendError
from tidings.delivery.service import LeaseLost, SkipReason
from tidings.delivery.tables import Channel, MessageSend, SendStatus
from tidings.jobs import registry

T0 = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Iterator[Clock]:
    simulated = Clock()
    set_clock(simulated)
    yield simulated
    set_clock(None)


@pytest.fixture
def account(db: Database) -> str:
    return make_account(db).id


def _row(db: Database, account_id: str, send_id: str) -> MessageSend:
    with db.read() as session:
        row = service.get(session, account_id, send_id)
    assert row is not None
    return row


def _janitor(db: Database, account_id: str) -> service.JanitorReport:
    """The janitor's report for one account (it settles every account's rows; tests share the
    database)."""
    with db.write() as session:
        report = service.janitor(session)
    return service.JanitorReport(
        [e for e in report.resent if e.account_id == account_id],
        [e for e in report.unknown if e.account_id == account_id],
    )


def _claim(db: Database, account_id: str, render: CountingRenderer, **kw: object) -> list[service.Claim]:
    with db.write() as session:
        return service.claim(session, account_id, render, lease_seconds=60, **kw)  # type: ignore[arg-type]


def test_plan_is_insert_if_absent(db: Database, account: str, clock: Clock) -> None:
    source = service.CampaignMessageSource("cm1")
    with db.write() as session:
        first = plan_send(session, account, source=source, profile_id="P1")
        again = plan_send(session, account, source=source, profile_id="P1", channel=Channel.SMS)
    assert first.created and not again.created
    assert again.send.id == first.send.id
    assert again.send.channel == "email"  # the first row, unchanged
    assert first.send.status == SendStatus.PLANNED
    assert first.send.idempotency_key == "c:cm1:P1"
    assert first.send.message_id == service.message_id_for(account, "c:cm1:P1", DOMAIN)
    assert first.send.message_id.endswith(f"@{DOMAIN}>")
    with db.read() as session:
        count = session.scalar(
            select(func.count()).where(
                MessageSend.account_id == account, MessageSend.idempotency_key == "c:cm1:P1"
            )
        )
    assert count == 1


def test_keys_never_include_the_content() -> None:
    assert service.idempotency_key(service.CampaignMessageSource("cm"), "P") == "c:cm:P"
    assert service.idempotency_key(service.FlowActionSource("act", "run", 2), "P") == "f:act:run:2"
    assert service.idempotency_key(service.ApiSource("caller-key"), "P") == "a:caller-key"


def test_plan_a_skip(db: Database, account: str, clock: Clock) -> None:
    with db.write() as session:
        planned = plan_send(session, account, skip=SkipReason.SUPPRESSED)
    assert planned.send.status == SendStatus.SKIPPED
    assert planned.send.reason == "Person Suppressed"
    assert _claim(db, account, CountingRenderer()) == []


def test_claim_renders_once_and_holds_a_lease(db: Database, account: str, clock: Clock) -> None:
    render = CountingRenderer()
    with db.write() as session:
        send_id = plan_send(session, account).send.id
    claims = _claim(db, account, render)
    assert [c.send_id for c in claims] == [send_id]
    row = _row(db, account, send_id)
    assert row.status == SendStatus.SENDING and row.attempts == 1
    assert row.claimed_until == T0 + dt.timedelta(seconds=60)
    assert row.lease_token == claims[0].token
    assert row.content == claims[0].message.content
    assert row.content_sha256 == claims[0].message.content_sha256
    assert row.message_id == claims[0].message.message_id
    assert render.calls == [send_id]
    assert _claim(db, account, render) == []  # held: nobody else takes it


def test_claim_waits_for_planned_for(db: Database, account: str, clock: Clock) -> None:
    with db.write() as session:
        plan_send(session, account, planned_for=T0 + dt.timedelta(minutes=5))
    assert _claim(db, account, CountingRenderer()) == []
    clock.advance(300)
    assert len(_claim(db, account, CountingRenderer())) == 1


def test_a_render_that_skips(db: Database, account: str, clock: Clock) -> None:
    render = CountingRenderer(skip=lambda row: service.Skip(SkipReason.TEMPLATE_ERROR, "output limit"))
    with db.write() as session:
        send_id = plan_send(session, account).send.id
    assert _claim(db, account, render) == []
    row = _row(db, account, send_id)
    assert (row.status, row.reason, row.detail) == (SendStatus.SKIPPED, "Email Syntax Error", "output limit")


def test_sent(db: Database, account: str, clock: Clock) -> None:
    provider = FakeProvider()
    with db.write() as session:
        send_id = plan_send(session, account).send.id
    (held,) = _claim(db, account, CountingRenderer())
    ref = provider.send(held.message)
    with db.write() as session:
        service.record_sent(session, held, ref)
    row = _row(db, account, send_id)
    assert (row.status, row.provider_ref, row.lease_token, row.finished_at) == (
        SendStatus.SENT,
        ref,
        None,
        T0,
    )
    with pytest.raises(LeaseLost), db.write() as session:  # a second outcome is refused
        service.record_sent(session, held, "again")
    assert _row(db, account, send_id).provider_ref == ref


def test_retryable_failure_retries_the_same_bytes(db: Database, account: str, clock: Clock) -> None:
    render = CountingRenderer()
    with db.write() as session:
        send_id = plan_send(session, account).send.id
    (first,) = _claim(db, account, render)
    with db.write() as session:
        status = service.record_failed(session, first, RetryableSendError("451 try later"))
    assert status == SendStatus.PLANNED
    row = _row(db, account, send_id)
    assert row.reason == "451 try later" and row.planned_for == T0 + dt.timedelta(seconds=30)
    assert _claim(db, account, render) == []  # not before its backoff
    clock.advance(30)
    (second,) = _claim(db, account, render)
    assert second.message == first.message and second.attempt == 2
    assert render.calls == [send_id]  # never rendered again


def test_permanent_failure(db: Database, account: str, clock: Clock) -> None:
    with db.write() as session:
        send_id = plan_send(session, account).send.id
    (held,) = _claim(db, account, CountingRenderer())
    with db.write() as session:
        service.record_failed(session, held, PermanentSendError("550 no such user"))
    row = _row(db, account, send_id)
    assert (row.status, row.reason) == (SendStatus.FAILED, "550 no such user")


def test_retryable_failure_out_of_attempts(db: Database, account: str, clock: Clock) -> None:
    with db.write() as session:
        send_id = plan_send(session, account).send.id
    for attempt in range(1, service.MAX_ATTEMPTS + 1):
        (held,) = _claim(db, account, CountingRenderer())
        assert held.attempt == attempt
        with db.write() as session:
            status = service.record_failed(session, held, RetryableSendError("timeout"), now=clock.now)
        clock.advance(3600)
    assert status == SendStatus.FAILED
    assert _row(db, account, send_id).status == SendStatus.FAILED


def test_cancel_touches_only_planned_rows(db: Database, account: str, clock: Clock) -> None:
    source = service.CampaignMessageSource("cm-cancel")
    with db.write() as session:
        sending = plan_send(session, account, source=source).send.id
    (held,) = _claim(db, account, CountingRenderer())
    with db.write() as session:
        planned = [plan_send(session, account, source=source).send.id for _ in range(3)]
        other = plan_send(session, account, source=service.CampaignMessageSource("cm-other")).send.id
        assert service.cancel(session, account, send_ids=[sending]) == 0
        assert service.cancel(session, account, source_id="cm-cancel") == 3
        assert service.cancel(session, account, send_ids=planned) == 0  # already cancelled
    assert _row(db, account, sending).status == SendStatus.SENDING
    assert {_row(db, account, s).status for s in planned} == {SendStatus.CANCELLED}
    assert _row(db, account, other).status == SendStatus.PLANNED
    with db.write() as session:
        service.record_sent(session, held, "ref")  # the cancel did not take the held row
    with db.write() as session:
        assert service.cancel(session, account, send_ids=[sending]) == 0
    assert _row(db, account, sending).status == SendStatus.SENT


def test_skip_touches_only_planned_rows(db: Database, account: str, clock: Clock) -> None:
    with db.write() as session:
        held_id = plan_send(session, account).send.id
    (held,) = _claim(db, account, CountingRenderer())
    with db.write() as session:
        planned = plan_send(session, account).send.id
        assert service.skip(session, account, [held_id, planned], SkipReason.SMART_SENDING) == 1
    assert _row(db, account, planned).reason == "Smart Sending"
    assert _row(db, account, held_id).status == SendStatus.SENDING
    with db.write() as session:  # the gate, checked again by the worker holding it
        service.skip_claimed(session, held, SkipReason.UNSUBSCRIBED)
    assert _row(db, account, held_id).status == SendStatus.SKIPPED


def test_janitor_resends_email_with_the_same_bytes(db: Database, account: str, clock: Clock) -> None:
    render = CountingRenderer()
    with db.write() as session:
        send_id = plan_send(session, account).send.id
    (crashed,) = _claim(db, account, render)
    clock.advance(59)
    assert _janitor(db, account) == service.JanitorReport([], [])  # lease not over
    clock.advance(2)
    report = _janitor(db, account)
    assert report.resent == [service.Expired(account, send_id, Channel.EMAIL)] and report.unknown == []
    row = _row(db, account, send_id)
    assert (row.status, row.resends, row.lease_token) == (SendStatus.PLANNED, 1, None)
    with pytest.raises(LeaseLost), db.write() as session:  # the vanished worker comes back late
        service.record_sent(session, crashed, "late")
    (again,) = _claim(db, account, render)
    assert again.resend and again.attempt == 2
    assert again.message == crashed.message  # same bytes, same Message-ID
    assert render.calls == [send_id]
    with pytest.raises(LeaseLost), db.write() as session:  # the row is held again, by another
        service.record_sent(session, crashed, "late")
    with db.write() as session:
        service.record_sent(session, again, "ref")
    assert _row(db, account, send_id).provider_ref == "ref"


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.PUSH])
def test_janitor_leaves_sms_and_push_unknown(
    db: Database, account: str, clock: Clock, channel: Channel
) -> None:
    with db.write() as session:
        send_id = plan_send(session, account, channel=channel).send.id
    (crashed,) = _claim(db, account, CountingRenderer())
    clock.advance(61)
    report = _janitor(db, account)
    assert report.unknown == [service.Expired(account, send_id, channel)] and report.resent == []
    row = _row(db, account, send_id)
    assert (row.status, row.reason, row.resends) == (SendStatus.UNKNOWN, "Delivery Unknown", 0)
    with pytest.raises(LeaseLost), db.write() as session:
        service.record_sent(session, crashed, "late")
    with db.write() as session:
        assert service.cancel(session, account, send_ids=[send_id]) == 0
    assert _claim(db, account, CountingRenderer()) == []


def test_janitor_gives_up_on_email_out_of_attempts(db: Database, account: str, clock: Clock) -> None:
    with db.write() as session:
        send_id = plan_send(session, account).send.id
    for _ in range(service.MAX_ATTEMPTS):
        assert len(_claim(db, account, CountingRenderer())) == 1
        clock.advance(61)
        _janitor(db, account)
    row = _row(db, account, send_id)
    assert (row.status, row.attempts, row.resends) == (SendStatus.UNKNOWN, service.MAX_ATTEMPTS, 4)


def test_the_janitor_job_is_periodic(db: Database, account: str, clock: Clock) -> None:
    assert delivery_jobs.janitor in domains.JOBS
    assert registry.PERIODIC[delivery_jobs.JANITOR_JOB].every_seconds == delivery_jobs.JANITOR_SECONDS
    with db.write() as session:
        send_id = plan_send(session, account, channel=Channel.SMS).send.id
    _claim(db, account, CountingRenderer())
    clock.advance(61)
    context = registry.JobContext(ulid(), "", delivery_jobs.JANITOR_JOB, {}, 1)
    with db.write() as session:
        registry.HANDLERS[delivery_jobs.JANITOR_JOB](session, context)
    assert _row(db, account, send_id).status == SendStatus.UNKNOWN
    assert utcnow() == clock.now
