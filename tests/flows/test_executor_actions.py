"""Each action type, the checks before a message, statuses, entry rules and live edits, on
virtual time (the executor's `now` and the clock seam)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import select

from tests.campaigns.conftest import Shop
from tests.delivery.servers import serve
from tests.flows.factories import body, email, linear, metric
from tests.flows.runkit import advance, live, runs, sends, steps, track, virtual_time
from tidings.db.session import Database
from tidings.flows import delays
from tidings.flows.tables import FlowAction
from tidings.lists.tables import ListMember
from tidings.profiles.tables import Profile


def _flow(sdk: Any, definition: dict[str, Any], status: str = "live") -> tuple[str, list[str]]:
    created = sdk.Flows.create_flow(body("F", definition)).data
    if status != "draft":
        live(sdk, created.id, status)
    return created.id, [a["id"] for a in created.attributes.definition.actions]


def _metric(db: Database, shop: Shop, name: str = "Started Checkout") -> dict[str, Any]:
    return {"type": "metric", "id": metric(db, shop.keys.id, name)}


def _delay(tid: str, nxt: str | None, **data: Any) -> dict[str, Any]:
    return {
        "temporary_id": tid,
        "type": "time-delay",
        "links": {"next": nxt},
        "data": {"unit": "hours", "value": 1, **data},
    }


def _country_is(value: str) -> dict[str, Any]:
    condition = {
        "type": "profile-property",
        "property": "location['country']",
        "filter": {"type": "string", "operator": "equals", "value": value},
    }
    return {"condition_groups": [{"conditions": [condition]}]}


def _by_email(db: Database, account_id: str) -> dict[str, str]:
    with db.read() as session:
        stmt = select(Profile.id, Profile.email).where(Profile.account_id == account_id)
        return {mail: pid for pid, mail in session.execute(stmt)}


def test_a_trigger_filter_and_a_trigger_split_read_the_event(sdk, shop: Shop, db: Database) -> None:  # type: ignore[no-untyped-def]
    template = shop.make_template("<p>{{ event.Total }}</p>")
    with virtual_time():
        trigger = _metric(db, shop)
        trigger["trigger_filter"] = {
            "condition_groups": [
                {
                    "conditions": [
                        {
                            "type": "metric-property",
                            "metric_id": trigger["id"],
                            "field": "Total",
                            "filter": {"type": "numeric", "operator": "greater-than", "value": 10},
                        }
                    ]
                }
            ]
        }
        split = {
            "temporary_id": "s",
            "type": "trigger-split",
            "links": {"next_if_true": "big", "next_if_false": None},
            "data": {
                "trigger_id": trigger["id"],
                "trigger_type": "metric",
                "trigger_filter": {
                    "condition_groups": [
                        {
                            "conditions": [
                                {
                                    "type": "metric-property",
                                    "metric_id": trigger["id"],
                                    "field": "Total",
                                    "filter": {"type": "numeric", "operator": "greater-than", "value": 100},
                                }
                            ]
                        }
                    ]
                },
            },
        }
        flow, _ = _flow(sdk, linear(trigger, split, email("big", template, "Big spender")))
        for mail, total in (("small@example.com", 5), ("mid@example.com", 50), ("big@example.com", 500)):
            track(sdk, "Started Checkout", {"email": mail}, {"Total": total})
        advance(db)
    people = _by_email(db, shop.keys.id)
    entered = {r.profile_id: r for r in runs(db, shop.keys.id, flow)}
    assert set(entered) == {people["mid@example.com"], people["big@example.com"]}  # the filter, at entry
    assert [s.profile_id for s in sends(db, shop.keys.id)] == [people["big@example.com"]]
    assert ("branched", "false") in steps(db, shop.keys.id, entered[people["mid@example.com"]].id)


def test_a_multi_branch_split_takes_the_first_branch_that_matches(sdk, shop: Shop, db: Database) -> None:  # type: ignore[no-untyped-def]
    template = shop.make_template("<p>x</p>")
    with virtual_time():
        trigger = _metric(db, shop)
        split = {
            "temporary_id": "m",
            "type": "multi-branch-split",
            "data": {
                "name": "Where",
                "branches": [
                    {
                        "order": 0,
                        "branch_filter": _country_is("France"),
                        "links": {"next": "fr"},
                        "name": "France",
                    },
                    {
                        "order": 1,
                        "branch_filter": _country_is("Spain"),
                        "links": {"next": "es"},
                        "name": "Spain",
                    },
                    {"is_else": True, "links": {"next": None}, "name": "Else"},
                ],
            },
        }
        flow, _ = _flow(
            sdk, linear(trigger, split, email("fr", template, "Bonjour"), email("es", template, "Hola"))
        )
        for mail, country in (
            ("a@example.com", "France"),
            ("b@example.com", "Spain"),
            ("c@example.com", "Peru"),
        ):
            track(sdk, "Started Checkout", {"email": mail, "location": {"country": country}}, {})
        advance(db)
    people = _by_email(db, shop.keys.id)
    planned = {s.profile_id: s.source_id for s in sends(db, shop.keys.id)}
    assert set(planned) == {people["a@example.com"], people["b@example.com"]}
    assert planned[people["a@example.com"]] != planned[people["b@example.com"]]
    other = next(r for r in runs(db, shop.keys.id, flow) if r.profile_id == people["c@example.com"])
    assert ("branched", "Else") in steps(db, shop.keys.id, other.id)


def test_an_ab_test_assigns_each_run_once_and_deterministically(sdk, shop: Shop, db: Database) -> None:  # type: ignore[no-untyped-def]
    template = shop.make_template("<p>x</p>")
    with virtual_time():
        trigger = _metric(db, shop)
        main = email("main", template, "A")
        variation = email("var", template, "B")
        for part in (main, variation):
            part.pop("temporary_id")
            part.pop("links")
        ab = {
            "temporary_id": "ab",
            "type": "ab-test",
            "links": {"next": None},
            "data": {
                "status": "draft",
                "experiment_status": "live",
                "main_action": main,
                "current_experiment": {"name": "Subject", "variations": [variation]},
            },
        }
        _flow(sdk, linear(trigger, ab))
        for n in range(40):
            track(sdk, "Started Checkout", {"email": f"p{n}@example.com"}, {})
        advance(db)
        advance(db)
    planned = sends(db, shop.keys.id)
    assert len(planned) == 40 and len({s.run_id for s in planned}) == 40
    assert len({s.source_id for s in planned}) == 2  # both messages got some of the 40


def test_profile_and_list_updates(sdk, shop: Shop, db: Database) -> None:  # type: ignore[no-untyped-def]
    list_id = shop.make_list("VIP")
    with virtual_time():
        trigger = _metric(db, shop)
        update = {
            "temporary_id": "u",
            "type": "update-profile",
            "links": {"next": "l"},
            "data": {
                "status": "draft",
                "profile_operations": [
                    {
                        "operator": "update",
                        "property_type": "string",
                        "property_key": "Tier",
                        "property_value": "VIP",
                    },
                    {"operator": "delete", "property_key": "Old"},
                ],
            },
        }
        add = {
            "temporary_id": "l",
            "type": "list-update",
            "links": {"next": None},
            "data": {"name": "Add", "list_id": list_id, "on_execution": True, "status": "draft"},
        }
        _flow(sdk, linear(trigger, update, add))
        track(sdk, "Started Checkout", {"email": "u@example.com", "properties": {"Old": 1}}, {})
        advance(db)
    person = _by_email(db, shop.keys.id)["u@example.com"]
    with db.read() as session:
        profile = session.get(Profile, (shop.keys.id, person))
        assert profile is not None and profile.properties == {"Tier": "VIP"}
        assert session.get(ListMember, (shop.keys.id, list_id, person)) is not None


def test_statuses_and_the_flow_filter_before_each_message(sdk, shop: Shop, db: Database) -> None:  # type: ignore[no-untyped-def]
    template = shop.make_template("<p>x</p>")
    with virtual_time() as clock:
        trigger = _metric(db, shop)
        definition = linear(trigger, _delay("d", "e"), email("e", template, "Hi"))
        definition["profile_filter"] = _country_is("Canada")
        flow, action_ids = _flow(sdk, definition)
        track(sdk, "Started Checkout", {"email": "ok@example.com", "location": {"country": "Canada"}}, {})
        track(sdk, "Started Checkout", {"email": "moved@example.com", "location": {"country": "Canada"}}, {})
        track(sdk, "Started Checkout", {"email": "no@example.com", "location": {"country": "Chile"}}, {})
        advance(db)
        people = _by_email(db, shop.keys.id)
        by_profile = {r.profile_id: r for r in runs(db, shop.keys.id, flow)}
        assert by_profile[people["no@example.com"]].exit_reason == "Fails Flow Filters"
        moved = {
            "data": {
                "type": "profile",
                "id": people["moved@example.com"],
                "attributes": {"location": {"country": "Chile"}},
            }
        }
        sdk.Profiles.update_profile(people["moved@example.com"], moved)
        live(sdk, flow, "manual")  # messages need review: none is sent
        clock.move(hours=2)
        advance(db)
    by_profile = {r.profile_id: r for r in runs(db, shop.keys.id, flow)}
    moved = by_profile[people["moved@example.com"]]
    assert (
        moved.status == "exited" and moved.exit_reason == "Fails Flow Filters"
    )  # checked again before the message
    ok = by_profile[people["ok@example.com"]]
    assert ok.status == "completed" and ("skipped", "Needs Review") in steps(db, shop.keys.id, ok.id)
    assert not sends(db, shop.keys.id)
    assert action_ids


def test_a_list_flow_runs_once_per_profile_and_skips_those_who_left(sdk, shop: Shop, db: Database) -> None:  # type: ignore[no-untyped-def]
    template = shop.make_template("<p>x</p>")
    list_id = shop.make_list("Welcome")
    with virtual_time() as clock:
        flow, _ = _flow(
            sdk, linear({"type": "list", "id": list_id}, _delay("d", "e"), email("e", template, "Welcome"))
        )
        ids = [
            sdk.Profiles.create_profile(
                {"data": {"type": "profile", "attributes": {"email": f"l{n}@example.com"}}}
            ).data.id
            for n in range(2)
        ]
        members = {"data": [{"type": "profile", "id": i} for i in ids]}
        sdk.Lists.add_profiles_to_list(list_id, members)
        advance(db)
        sdk.Lists.remove_profiles_from_list(list_id, {"data": [{"type": "profile", "id": ids[1]}]})
        sdk.Lists.add_profiles_to_list(
            list_id, {"data": [{"type": "profile", "id": ids[0]}]}
        )  # again: no second run
        clock.move(hours=2)
        advance(db)
    assert len(runs(db, shop.keys.id, flow)) == 2
    assert [s.profile_id for s in sends(db, shop.keys.id)] == [ids[0]]
    left = next(r for r in runs(db, shop.keys.id, flow) if r.profile_id == ids[1])
    assert ("skipped", "Person No Longer in List") in steps(db, shop.keys.id, left.id)


def test_a_segment_flow_starts_from_the_change_log(sdk, shop: Shop, db: Database) -> None:  # type: ignore[no-untyped-def]
    template = shop.make_template("<p>x</p>")
    segment = shop.make_segment()
    sdk.Profiles.create_profile({"data": {"type": "profile", "attributes": {"email": "before@example.com"}}})
    advance(db)
    flow, _ = _flow(sdk, linear({"type": "segment", "id": segment}, email("e", template, "In")))
    sdk.Profiles.create_profile({"data": {"type": "profile", "attributes": {"email": "after@example.com"}}})
    advance(db)  # the segment update job writes the change; the scan enters it
    from tidings.flows import entry

    with db.write() as session:
        entry.scan_segments(session)
    advance(db)
    people = _by_email(db, shop.keys.id)
    assert [r.profile_id for r in runs(db, shop.keys.id, flow)] == [people["after@example.com"]]
    assert len(sends(db, shop.keys.id)) == 1


def test_a_deleted_flow_ends_its_waiting_runs_and_a_live_edit_keeps_them_in_place(
    sdk, shop: Shop, db: Database
) -> None:  # type: ignore[no-untyped-def]
    template = shop.make_template("<p>x</p>")
    with virtual_time() as clock:
        trigger = _metric(db, shop)
        flow, (delay_id, email_id) = _flow(
            sdk, linear(trigger, _delay("d", "e", value=3), email("e", template, "Later"))
        )
        doomed, _ = _flow(sdk, linear(trigger, _delay("d2", None)))
        track(sdk, "Started Checkout", {"email": "w@example.com"}, {})
        advance(db)
        (waiting,) = runs(db, shop.keys.id, flow)
        due = waiting.due_at
        # A live edit of the delay: the started wait keeps its due time.
        edit = {
            "data": {
                "type": "flow-action",
                "id": delay_id,
                "attributes": {"definition": {**_delay("d", email_id, value=9), "id": delay_id}},
            }
        }
        edit["data"]["attributes"]["definition"].pop("temporary_id")
        sdk.Flows.update_flow_action(delay_id, edit)
        sdk.Flows.delete_flow(doomed)
        (still,) = runs(db, shop.keys.id, flow)
        assert still.due_at == due and still.action_id == delay_id
        clock.move(hours=3, minutes=1)
        advance(db)
    assert len(sends(db, shop.keys.id)) == 1
    (ended,) = runs(db, shop.keys.id, doomed)
    assert ended.status == "exited" and ended.exit_reason == "Flow Deleted"
    assert steps(db, shop.keys.id, ended.id)[-1] == ("exited", "Flow Deleted")


def test_delays_wait_for_the_time_of_day_and_the_weekday_in_the_zone() -> None:
    start = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in New York
    ny = delays.zone("America/New_York", "UTC")
    assert delays.due({"unit": "hours", "value": 2}, start, ny) == start + dt.timedelta(hours=2)
    at_nine = delays.due({"unit": "days", "value": 1, "delay_until_time": "09:00"}, start, ny)
    assert at_nine == dt.datetime(2026, 12, 8, 14, 0, tzinfo=dt.UTC)  # Tuesday 09:00 New York
    friday = delays.due(
        {"unit": "hours", "value": 1, "delay_until_time": "08:30", "delay_until_weekdays": ["friday"]},
        start,
        ny,
    )
    assert friday == dt.datetime(2026, 12, 11, 13, 30, tzinfo=dt.UTC)
    assert delays.due({"unit": "minutes", "value": 0}, start, ny) == start


def test_a_webhook_action_posts_the_rendered_body_once_through_a_durable_job(
    sdk, shop: Shop, db: Database
) -> None:  # type: ignore[no-untyped-def]
    received: list[tuple[dict[str, str], bytes]] = []
    receiver = FastAPI()

    @receiver.post("/hook")
    async def hook(request: Request) -> dict[str, bool]:
        received.append((dict(request.headers), await request.body()))
        return {"ok": True}

    with serve(receiver) as base, virtual_time():
        trigger = _metric(db, shop)
        action = {
            "temporary_id": "w",
            "type": "send-webhook",
            "links": {"next": None},
            "data": {
                "status": "draft",
                "message": {
                    "url": f"{base}/hook",
                    "headers": {"X-Shop": "yes"},
                    "body": '{"email": "{{ person.email }}", "total": {{ event.Total }}}',
                },
            },
        }
        flow, _ = _flow(sdk, linear(trigger, action))
        track(sdk, "Started Checkout", {"email": "hook@example.com"}, {"Total": 12})
        advance(db)
        advance(db)
    ((headers, sent),) = received
    assert sent == b'{"email": "hook@example.com", "total": 12}'
    assert headers["x-shop"] == "yes" and headers["idempotency-key"].count(":") == 2
    (run,) = runs(db, shop.keys.id, flow)
    assert ("delivered", "Webhook answered 200") in steps(db, shop.keys.id, run.id)


def test_a_merged_profile_keeps_its_place_in_the_flow(sdk, shop: Shop, db: Database) -> None:  # type: ignore[no-untyped-def]
    template = shop.make_template("<p>x</p>")
    with virtual_time() as clock:
        trigger = _metric(db, shop)
        flow, _ = _flow(sdk, linear(trigger, _delay("d", "e"), email("e", template, "After the merge")))
        track(sdk, "Started Checkout", {"email": "first@example.com"}, {})
        advance(db)
        people = _by_email(db, shop.keys.id)
        keep = sdk.Profiles.create_profile(
            {"data": {"type": "profile", "attributes": {"email": "keep@example.com"}}}
        ).data.id
        body = {
            "data": {
                "type": "profile-merge",
                "id": keep,
                "relationships": {
                    "profiles": {"data": [{"type": "profile", "id": people["first@example.com"]}]}
                },
            }
        }
        sdk.Profiles.merge_profiles(body)
        clock.move(hours=2)
        advance(db)
    (run,) = runs(db, shop.keys.id, flow)
    assert run.profile_id == keep and run.status == "completed"
    assert [s.profile_id for s in sends(db, shop.keys.id)] == [keep]


def test_a_split_the_compiler_cannot_evaluate_ends_those_runs_and_the_rest_goes_on(
    sdk, shop: Shop, db: Database
) -> None:  # type: ignore[no-untyped-def]
    template = shop.make_template("<p>x</p>")
    with virtual_time():
        trigger = _metric(db, shop)
        bad = {
            "condition_groups": [
                {
                    "conditions": [
                        {
                            "type": "profile-property",
                            "property": "location['country']",
                            "filter": {"type": "string", "operator": "equals", "value": "x"},
                        }
                    ]
                }
            ]
        }
        split = {
            "temporary_id": "s",
            "type": "conditional-split",
            "links": {"next_if_true": None, "next_if_false": None},
            "data": {"profile_filter": bad},
        }
        broken, (split_id,) = _flow(sdk, linear(trigger, split))
        # Validation refuses a property the compiler cannot read; a definition stored before that
        # check (or data the compiler refuses at run time) must still not stall other runs.
        with db.write() as session:
            action = session.get(FlowAction, (shop.keys.id, split_id))
            assert action is not None
            stored = copy.deepcopy(action.definition)
            stored["data"]["profile_filter"]["condition_groups"][0]["conditions"][0]["property"] = (
                "location.country"
            )
            action.definition = stored
        fine, _ = _flow(sdk, linear(trigger, email("e", template, "Fine")))
        track(sdk, "Started Checkout", {"email": "both@example.com"}, {})
        advance(db)
    (stuck,) = runs(db, shop.keys.id, broken)
    assert stuck.status == "exited" and stuck.exit_reason.startswith("Filter not evaluated")
    (ok,) = runs(db, shop.keys.id, fine)
    assert ok.status == "completed" and len(sends(db, shop.keys.id)) == 1


def test_a_custom_metric_starts_its_flow_for_each_member_event(sdk, shop: Shop, db: Database) -> None:  # type: ignore[no-untyped-def]
    """A flow triggered by a custom metric starts on an event of any member metric that passes
    that member's filters (tidings.events.custom_metrics.expand), and on nothing else."""
    with virtual_time():
        placed = metric(db, shop.keys.id, "Placed Order")
        store = metric(db, shop.keys.id, "Store Order")
        metric(db, shop.keys.id, "Viewed Product")
        groups = [
            {
                "metric_id": placed,
                "metric_filters": [
                    {"property": "Brand", "filter": {"type": "string", "operator": "equals", "value": "Acme"}}
                ],
                "value_property": "$value",
            },
            {"metric_id": store, "value_property": "$value"},
        ]
        custom = sdk.Metrics.create_custom_metric(
            {
                "data": {
                    "type": "custom-metric",
                    "attributes": {
                        "name": "Any order",
                        "definition": {"aggregation_method": "count", "metric_groups": groups},
                    },
                }
            }
        ).data.id
        flow, _ = _flow(sdk, linear({"type": "metric", "id": custom}, _delay("wait", None)))
        track(sdk, "Placed Order", {"email": "acme@example.com"}, {"Brand": "Acme"})
        track(sdk, "Placed Order", {"email": "other@example.com"}, {"Brand": "Other"})
        track(sdk, "Store Order", {"email": "store@example.com"}, {"Till": 3})
        track(sdk, "Viewed Product", {"email": "viewer@example.com"}, {"Brand": "Acme"})
        advance(db)
    people = _by_email(db, shop.keys.id)
    entered = {r.profile_id for r in runs(db, shop.keys.id, flow)}
    assert entered == {people["acme@example.com"], people["store@example.com"]}
