"""The executor as a state machine (Hypothesis): events arrive (some backfilled), time passes,
advances commit or crash (rolled back half way). Runs are never lost, no action is done twice for
a run, and once time has passed every run has ended with exactly the messages its path holds."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from tests.conftest import make_account
from tests.flows.factories import email, linear, metric
from tidings.db.ids import ulid
from tidings.db.session import Database
from tidings.delivery.tables import MessageSend
from tidings.events.metrics import MetricKey
from tidings.events.store import NewEvent, write_events
from tidings.flows import executor
from tidings.flows import service as flows
from tidings.flows.tables import FlowRun, FlowRunStep
from tidings.profiles.service import create_profile
from tidings.templates import service as templates
from tidings.templates.schemas import TemplateCreateAttributes

START = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


class Crash(Exception):
    pass


def _definition(trigger: str, template: str) -> dict[str, Any]:
    split = {
        "temporary_id": "s",
        "type": "trigger-split",
        "links": {"next_if_true": "vip", "next_if_false": "plain"},
        "data": {
            "trigger_id": trigger,
            "trigger_type": "metric",
            "trigger_filter": {
                "condition_groups": [
                    {
                        "conditions": [
                            {
                                "type": "metric-property",
                                "metric_id": trigger,
                                "field": "vip",
                                "filter": {"type": "boolean", "operator": "equals", "value": True},
                            }
                        ]
                    }
                ]
            },
        },
    }
    return linear(
        {"type": "metric", "id": trigger},
        {
            "temporary_id": "d",
            "type": "time-delay",
            "links": {"next": "s"},
            "data": {"unit": "hours", "value": 1},
        },
        split,
        email("vip", template, "VIP", "d2"),
        email("plain", template, "Plain", "d2"),
        {
            "temporary_id": "d2",
            "type": "time-delay",
            "links": {"next": "last"},
            "data": {"unit": "minutes", "value": 30},
        },
        email("last", template, "Last"),
    )


class Machine(RuleBasedStateMachine):
    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db
        self.account = make_account(db, name="Machine").id
        self.now = START
        self.expected: dict[str, bool] = {}  # event id -> vip
        trigger = metric(db, self.account, "Added to Cart")
        with db.write() as session:
            template = templates.create_template(
                session, self.account, TemplateCreateAttributes(name="T", editor_type="CODE", html="<p>x</p>")
            )
            self.profiles = [
                create_profile(session, self.account, {"email": f"m{n}@example.com"}).profile.id
                for n in range(3)
            ]
            flow = flows.create_flow(session, self.account, "Machine", _definition(trigger, template.id))
            flows.update_status(session, self.account, flow.id, "live")
            self.flow = flow.id

    @rule(who=st.integers(0, 2), vip=st.booleans(), backfill=st.booleans())
    def event(self, who: int, vip: bool, backfill: bool) -> None:
        with self.db.write() as session:
            (event_id,) = write_events(
                session,
                self.account,
                [
                    NewEvent(
                        profile_id=self.profiles[who],
                        metric=MetricKey("Added to Cart"),
                        time=self.now,
                        properties={"vip": vip},
                        value=None,
                        value_currency=None,
                        unique_id=ulid(),
                        backfill=backfill,
                    )
                ],
            )
        if not backfill:
            self.expected[event_id] = vip

    @rule(minutes=st.sampled_from([0, 1, 29, 31, 59, 61, 120]))
    def advance(self, minutes: int) -> None:
        self.now += dt.timedelta(minutes=minutes)
        with self.db.write() as session:
            executor.advance(session, now=self.now, limit=2)

    @rule(minutes=st.sampled_from([0, 30, 61]))
    def crash(self, minutes: int) -> None:
        """An advance that dies before its commit: everything it did is rolled back."""
        try:
            with self.db.write() as session:
                executor.advance(session, now=self.now + dt.timedelta(minutes=minutes))
                raise Crash
        except Crash:
            pass

    def _runs(self) -> list[FlowRun]:
        with self.db.read() as session:
            stmt = select(FlowRun).where(FlowRun.account_id == self.account)
            return list(session.execute(stmt).scalars())

    def _sends(self) -> list[MessageSend]:
        with self.db.read() as session:
            stmt = select(MessageSend).where(MessageSend.account_id == self.account)
            return list(session.execute(stmt).scalars())

    @invariant()
    def no_run_lost_and_no_action_done_twice(self) -> None:
        runs = self._runs()
        assert sorted(r.event_id for r in runs) == sorted(self.expected)  # one run per event, never backfill
        for run in runs:
            assert run.status in ("active", "waiting", "completed", "exited")
            assert (run.due_at is not None) == (run.status in ("active", "waiting"))
        per_run_action = Counter((s.run_id, s.idempotency_key.split(":")[1]) for s in self._sends())
        assert all(count == 1 for count in per_run_action.values())
        with self.db.read() as session:
            stmt = select(FlowRunStep.run_id, func.count()).where(
                FlowRunStep.account_id == self.account, FlowRunStep.outcome == "sent"
            )
            traced = dict(session.execute(stmt.group_by(FlowRunStep.run_id)).all())
        assert traced == Counter(s.run_id for s in self._sends())  # each send traced once

    def teardown(self) -> None:
        later = self.now + dt.timedelta(days=1)
        for _ in range(4):  # each round: everything due, then two hours later
            for _ in range(50):
                with self.db.write() as session:
                    if not executor.advance(session, now=later):
                        break
            later += dt.timedelta(hours=2)
        runs = {r.id: r for r in self._runs()}
        assert {r.status for r in runs.values()} <= {"completed"}
        by_run: dict[str, list[str]] = {}
        for send in self._sends():
            by_run.setdefault(str(send.run_id), []).append(send.idempotency_key.split(":")[1])
        for run in runs.values():
            assert len(by_run.get(run.id, [])) == 2


def test_the_executor_never_loses_a_run_nor_sends_twice(db: Database) -> None:
    run_state_machine_as_test(
        lambda: Machine(db),
        settings=settings(
            max_examples=12,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
