"""Segments on PostgreSQL: a full build over 1,000,000 profiles and 10,000,000 events, the time
from an event to the membership it changes with 100 live segments, and how late relative-time
exits happen. Each figure next to its target and a plain baseline on the same database.

    TIDINGS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/tidings_bench_segments \
        .venv/bin/python bench/segments.py [--profiles 1000000] [--events 10000000] [--reuse] [--large]
        [--live-profiles 20000] [--live-events 200000] [--segments 100] [--trials 50] [--workers 1]
        [--exit-profiles 20] [--exit-spread 120] [--only build|live]
        [--database tidings_bench_segments_build] [--live-database tidings_bench_segments_live]

The server and credentials come from TIDINGS_BENCH_DATABASE_URL; the two databases are
recreated by each run (the build's is kept with `--reuse`).

1. Build: loads the data into the real Tidings tables (after `tidings db upgrade`) with COPY,
   keys and indexes dropped around the COPY and recreated from their own definitions, then
   VACUUM ANALYZE: profiles with realistic emails and custom properties, email-marketing
   consent for a share of them, suppressions, events over two years across nine metrics. A
   three-condition segment (Placed Order at least twice in the last 90 days, can receive email
   marketing, properties['loyalty_tier'] = "gold") is created through the segment service and
   built by the `segments.build` job, as production does; timed next to a hand-written query
   of the same set, and the two sets compared. `--reuse` keeps a database loaded by an
   earlier run with the same sizes.
2. Event to membership: `tidings serve` (workers on) over a smaller dataset, 100 varied
   segments created through the API, then trials: POST an event that moves a profile into a
   watched segment, poll get_profiles_for_segment (filtered by email) until it is there. The
   baseline is the same event becoming visible in the events table.
3. Relative-time exits: profiles with one order each, timed to leave a "Placed Order in the
   last 1 hour" segment at instants spread over the next `--exit-spread` seconds; the
   membership is polled once a second and each exit's lateness is observed exit - boundary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psycopg
from _common import database_url, free_port, machine, serve
from _segment_data import BRANDS, Loaded, dsn, load, reuse
from sqlalchemy import text

from tidings import domains
from tidings.config import Settings
from tidings.db.session import Database
from tidings.jobs.worker import drain
from tidings.ops.logs import configure_logging
from tidings.segments import service as segments

REVISION = "2026-10-15"
BUILD_DEFINITION_NAME = "Repeat buyers, gold, emailable"


# ----------------------------------------------------------------------------------- build


def metric_condition(metric_id: str, times: int, timeframe: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "profile-metric",
        "metric_id": metric_id,
        "measurement": "count",
        "measurement_filter": {"type": "numeric", "operator": "greater-than-or-equal", "value": times},
        "timeframe_filter": timeframe,
    }


def in_the_last(quantity: int, unit: str) -> dict[str, Any]:
    return {"type": "date", "operator": "in-the-last", "quantity": quantity, "unit": unit}


EMAILABLE = {
    "type": "profile-marketing-consent",
    "consent": {"channel": "email", "can_receive_marketing": True, "consent_status": {"subscription": "any"}},
}


def tier_is(tier: str) -> dict[str, Any]:
    return {
        "type": "profile-property",
        "property": "properties['loyalty_tier']",
        "filter": {"type": "string", "operator": "equals", "value": tier},
    }


def build_definition(placed_order: str) -> dict[str, Any]:
    return {
        "condition_groups": [
            {"conditions": [metric_condition(placed_order, 2, in_the_last(90, "day"))]},
            {"conditions": [EMAILABLE]},
            {"conditions": [tier_is("gold")]},
        ]
    }


# The same set, written by hand the way one would for this data: the tier compared as stored
# (the data holds lower-case tiers), "can receive email marketing" as tidings/consent/policy.py
# states it (an email address, no suppression, consent not UNSUBSCRIBED), the repeat buyers
# grouped from the (account_id, metric_id, time) index.
HAND_WRITTEN = """
SELECT p.id FROM profiles p
WHERE p.account_id = %(account)s
  AND p.properties ->> 'loyalty_tier' = 'gold'
  AND p.email IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM email_suppressions s
                  WHERE s.account_id = p.account_id AND s.profile_id = p.id)
  AND NOT EXISTS (SELECT 1 FROM profile_subscriptions c
                  WHERE c.account_id = p.account_id AND c.profile_id = p.id AND c.channel = 'email'
                    AND c.purpose = 'marketing' AND c.consent = 'UNSUBSCRIBED')
  AND p.id IN (SELECT e.profile_id FROM events e
               WHERE e.account_id = %(account)s AND e.metric_id = %(metric)s
                 AND e.time >= %(since)s AND e.time <= %(now)s
               GROUP BY e.profile_id HAVING count(*) >= 2)
"""


def bench_build(url: str, loaded: Loaded, repeat: int) -> None:
    domains.install()
    db = Database(Settings(database_url=url))
    definition = build_definition(loaded.metrics["Placed Order"])
    builds: list[float] = []
    members: set[str] = set()
    built_at = loaded.now
    for _ in range(repeat):
        with db.write() as session:
            session.execute(text("DELETE FROM jobs"))  # what earlier runs left
            for old in session.execute(text("SELECT id FROM segments")).scalars().all():
                segments.delete_segment(session, loaded.account_id, old)
            segment = segments.create_segment(
                session, loaded.account_id, {"name": BUILD_DEFINITION_NAME, "definition": definition}
            )
            segment_id = segment.id
        started = time.perf_counter()
        ran = drain(db)  # the segments.build job, as a worker runs it: claim, build, commit
        builds.append(time.perf_counter() - started)
        assert ran == 1, ran
        with db.read() as session:
            status = session.execute(text("SELECT status FROM jobs WHERE name = 'segments.build'")).scalars()
            assert set(status) == {"done"}, "the build job failed"
        with db.read() as session:
            rows = session.execute(
                text("SELECT profile_id, joined_group_at FROM segment_members WHERE segment_id = :s"),
                {"s": segment_id},
            ).all()
        members = {r[0] for r in rows}
        built_at = rows[0][1] if rows else built_at
    db.dispose()

    params = {
        "account": loaded.account_id,
        "metric": loaded.metrics["Placed Order"],
        "since": built_at - dt.timedelta(days=90),
        "now": built_at,
    }
    plain: list[float] = []
    expected: set[str] = set()
    with psycopg.connect(dsn(url)) as conn:
        for _ in range(repeat):
            started = time.perf_counter()
            expected = {r[0] for r in conn.execute(HAND_WRITTEN, params)}
            plain.append(time.perf_counter() - started)
    build, base = min(builds), min(plain)
    print(
        f"\nfull build of a three-condition segment over {len(loaded.profile_ids):,} profiles "
        f"(best of {repeat}; all runs: {', '.join(f'{b:.2f}' for b in builds)} s):"
    )
    print(f"  segments.build job (claim, build, commit)   {build:7.2f} s   target <= 10 s")
    print(f"  hand-written SELECT of the same set         {base:7.2f} s   ratio {build / base:.1f}x")
    print(
        f"  members: Tidings {len(members):,}, hand-written query {len(expected):,}: "
        + ("the same set" if members == expected else f"DIFFERENT ({len(members ^ expected)} differ)")
    )


EMAILABLE_BY_HAND = """
INSERT INTO plain_members
SELECT p.id FROM profiles p
WHERE p.account_id = %(account)s AND p.email IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM email_suppressions s
                  WHERE s.account_id = p.account_id AND s.profile_id = p.id)
  AND NOT EXISTS (SELECT 1 FROM profile_subscriptions c
                  WHERE c.account_id = p.account_id AND c.profile_id = p.id AND c.channel = 'email'
                    AND c.purpose = 'marketing' AND c.consent = 'UNSUBSCRIBED')
"""


def bench_large(url: str, loaded: Loaded) -> None:
    """A segment most of the account is in ("can receive email marketing"): the build stores
    every member and a change row for each, next to an INSERT ... SELECT of the same ids."""
    db = Database(Settings(database_url=url))
    definition = {"condition_groups": [{"conditions": [EMAILABLE]}]}
    with db.write() as session:
        segment_id = segments.create_segment(
            session, loaded.account_id, {"name": "Can receive email marketing", "definition": definition}
        ).id
    started = time.perf_counter()
    drain(db)
    build = time.perf_counter() - started
    with db.read() as session:
        members = session.execute(
            text("SELECT count(*) FROM segment_members WHERE segment_id = :s"), {"s": segment_id}
        ).scalar_one()
    with db.write() as session:
        segments.delete_segment(session, loaded.account_id, segment_id)
    db.dispose()
    with psycopg.connect(dsn(url)) as conn:
        conn.execute("CREATE TEMP TABLE plain_members (profile_id text PRIMARY KEY)")
        started = time.perf_counter()
        stored = conn.execute(EMAILABLE_BY_HAND, {"account": loaded.account_id}).rowcount
        conn.commit()
        plain = time.perf_counter() - started
    print(f"\nfull build of 'can receive email marketing' ({members:,} members; no target):")
    print(f"  segments.build job (claim, build, commit)   {build:7.2f} s")
    print(f"  INSERT ... SELECT of the same ids ({stored:,})  {plain:7.2f} s   ratio {build / plain:.1f}x")


# ------------------------------------------------------------------------------------ live


def varied_definitions(loaded: Loaded, count: int, rnd: random.Random) -> list[dict[str, Any]]:
    """`count` definitions of the kinds shops build: engagement windows, buyers, value, consent,
    region, custom properties, combined in groups (AND) and alternatives (OR)."""
    m = loaded.metrics
    engaged = ["Active on Site", "Viewed Product", "Added to Cart", "Started Checkout", "Opened Email"]

    def prop(name: str, f: dict[str, Any]) -> dict[str, Any]:
        return {"type": "profile-property", "property": name, "filter": f}

    def pick() -> dict[str, Any]:
        kind = rnd.randrange(10)
        if kind == 0:
            return metric_condition(
                m[rnd.choice(engaged)],
                rnd.choice((1, 2, 3)),
                in_the_last(rnd.choice((7, 30, 60, 180)), "day"),
            )
        if kind == 1:
            return metric_condition(
                m["Placed Order"],
                rnd.choice((1, 2, 3, 5)),
                rnd.choice(
                    (in_the_last(rnd.choice((30, 90, 365)), "day"), {"type": "date", "operator": "alltime"})
                ),
            )
        if kind == 2:
            return {
                "type": "profile-metric",
                "metric_id": m["Placed Order"],
                "measurement": "sum",
                "measurement_filter": {
                    "type": "numeric",
                    "operator": "greater-than",
                    "value": rnd.choice((100, 250, 500)),
                },
                "timeframe_filter": {"type": "date", "operator": "alltime"},
            }
        if kind == 3:
            cond = metric_condition(m["Viewed Product"], 1, in_the_last(rnd.choice((14, 30)), "day"))
            cond["metric_filters"] = [
                {
                    "property": "Brand",
                    "filter": {"type": "string", "operator": "equals", "value": rnd.choice(BRANDS)},
                }
            ]
            return cond
        if kind == 4:
            return (
                EMAILABLE
                if rnd.random() < 0.7
                else {
                    "type": "profile-marketing-consent",
                    "consent": {
                        "channel": "sms",
                        "can_receive_marketing": True,
                        "consent_status": {"subscription": "subscribed"},
                    },
                }
            )
        if kind == 5:
            return {
                "type": "profile-region",
                "in_region": rnd.random() < 0.8,
                "region": rnd.choice(("european_union", "united_states")),
            }
        if kind == 6:
            return tier_is(rnd.choice(("bronze", "silver", "gold", "platinum")))
        if kind == 7:
            return prop(
                "properties['plan']",
                {"type": "string", "operator": "in", "value": rnd.sample(["free", "basic", "pro"], 2)},
            )
        if kind == 8:
            return prop(
                "properties['lifetime_orders']",
                {"type": "numeric", "operator": "greater-than-or-equal", "value": rnd.choice((1, 3, 5))},
            )
        return rnd.choice(
            (
                prop(
                    "email",
                    {
                        "type": "string",
                        "operator": "ends-with",
                        "value": rnd.choice(("gmail.com", "yahoo.com", ".de")),
                    },
                ),
                prop("created", in_the_last(rnd.choice((30, 180, 365)), "day")),
                prop(
                    "properties['birthday']",
                    {"type": "date", "operator": "calendar-month", "value": rnd.randint(1, 12)},
                ),
                {
                    "type": "profile-predictive-analytics",
                    "dimension": "historic_number_of_orders",
                    "filter": {
                        "type": "numeric",
                        "operator": "greater-than-or-equal",
                        "value": rnd.choice((2, 4)),
                    },
                },
            )
        )

    out = []
    for _ in range(count):
        groups = [
            {"conditions": [pick() for _ in range(rnd.choice((1, 1, 2)))]} for _ in range(rnd.randint(1, 3))
        ]
        out.append({"condition_groups": groups})
    return out


def percentile(samples: list[float], q: float) -> float:
    """Nearest rank: the smallest sample with at least q of the samples at or below it."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class Api:
    def __init__(self, port: int, key: str) -> None:
        self.client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            timeout=60,
            headers={"Authorization": f"Klaviyo-API-Key {key}", "revision": REVISION},
        )

    def create_segment(self, name: str, definition: dict[str, Any]) -> str:
        body = {"data": {"type": "segment", "attributes": {"name": name, "definition": definition}}}
        response = self.client.post("/api/segments", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["data"]["id"])

    def processing(self) -> int:
        busy, url = 0, "/api/segments?fields[segment]=is_processing"
        while url:
            page = self.client.get(url).json()
            busy += sum(1 for s in page["data"] if s["attributes"]["is_processing"])
            url = page["links"].get("next") or ""
        return busy

    def event(
        self, email: str, at: dt.datetime, unique_id: str, properties: dict[str, Any] | None = None
    ) -> None:
        profile: dict[str, Any] = {"email": email}
        if properties:
            profile["properties"] = properties
        body = {
            "data": {
                "type": "event",
                "attributes": {
                    "properties": {"$value": 42.0, "OrderId": unique_id, "ItemNames": ["Classic Mug"]},
                    "value": 42.0,
                    "time": at.isoformat(),
                    "unique_id": unique_id,
                    "metric": {"data": {"type": "metric", "attributes": {"name": "Placed Order"}}},
                    "profile": {"data": {"type": "profile", "attributes": profile}},
                },
            }
        }
        response = self.client.post("/api/events", json=body)
        assert response.status_code == 202, response.text

    def is_member(self, segment_id: str, email: str) -> bool:
        response = self.client.get(
            f"/api/segments/{segment_id}/profiles",
            params={"filter": f'equals(email,"{email}")', "fields[profile]": "email"},
        )
        assert response.status_code == 200, response.text
        return bool(response.json()["data"])

    def member_ids(self, segment_id: str) -> set[str]:
        found: set[str] = set()
        url = f"/api/segments/{segment_id}/relationships/profiles?page[size]=100"
        while url:
            page = self.client.get(url).json()
            found.update(item["id"] for item in page["data"])
            url = page["links"].get("next") or ""
        return found


def bench_live(url: str, loaded: Loaded, args: argparse.Namespace) -> None:
    rnd = random.Random(args.seed + 1)
    port = free_port()
    server = serve(url, port, workers=args.workers)
    api = Api(port, loaded.private_key)
    try:
        started = time.perf_counter()
        watched_definition = {
            "condition_groups": [
                {"conditions": [metric_condition(loaded.metrics["Placed Order"], 1, in_the_last(30, "day"))]},
                {"conditions": [tier_is("gold")]},
            ]
        }
        watched = api.create_segment("Watched: gold buyers, last 30 days", watched_definition)
        for n, definition in enumerate(varied_definitions(loaded, args.segments - 1, rnd)):
            api.create_segment(f"Segment {n}", definition)
        while api.processing():
            time.sleep(0.5)
        print(
            f"\n{args.segments} segments created through the API and built in "
            f"{time.perf_counter() - started:.0f} s ({len(loaded.profile_ids):,} profiles, "
            f"{args.live_events:,} events; server with {args.workers} worker thread(s))",
            flush=True,
        )
        event_to_membership(url, api, loaded, watched, args)
        relative_exits(api, loaded, args)
    finally:
        server.terminate()
        server.wait(30)


def event_to_membership(url: str, api: Api, loaded: Loaded, watched: str, args: argparse.Namespace) -> None:
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        candidates = conn.execute(
            """SELECT p.id, p.email FROM profiles p
               WHERE p.account_id = %(a)s AND p.email IS NOT NULL AND p.properties ->> 'loyalty_tier' = 'gold'
                 AND NOT EXISTS (SELECT 1 FROM events e WHERE e.account_id = p.account_id
                                 AND e.profile_id = p.id AND e.metric_id = %(m)s)
               ORDER BY p.id LIMIT %(n)s""",
            {"a": loaded.account_id, "m": loaded.metrics["Placed Order"], "n": args.trials},
        ).fetchall()
        stored_lags: list[float] = []
        member_lags: list[float] = []
        for n, (profile_id, email) in enumerate(candidates):
            assert not api.is_member(watched, email)
            unique_id = f"trial-{n}-{time.time_ns()}"
            api.event(email, dt.datetime.now(dt.UTC), unique_id)
            accepted = time.perf_counter()
            stored = member = None
            while member is None and time.perf_counter() - accepted < 30:
                if (
                    stored is None
                    and conn.execute(
                        "SELECT 1 FROM events WHERE account_id = %s AND profile_id = %s AND metric_id = %s"
                        " AND unique_id = %s",
                        (loaded.account_id, profile_id, loaded.metrics["Placed Order"], unique_id),
                    ).fetchone()
                ):
                    stored = time.perf_counter() - accepted
                if api.is_member(watched, email):
                    member = time.perf_counter() - accepted
                    stored = stored if stored is not None else member
                else:
                    time.sleep(0.03)
            if member is None:
                print(f"  trial {n}: not a member after 30 s")
                continue
            assert stored is not None
            stored_lags.append(stored)
            member_lags.append(member)
            time.sleep(0.2)
    print(f"event -> membership, {len(member_lags)}/{len(candidates)} trials (polled every ~30 ms):")
    print(
        f"  visible in get_profiles_for_segment     p50 {statistics.median(member_lags):5.2f} s"
        f"  p95 {percentile(member_lags, 0.95):5.2f} s  max {max(member_lags):5.2f} s   target p95 <= 1 s"
    )
    print(
        f"  baseline: the event stored in `events`  p50 {statistics.median(stored_lags):5.2f} s"
        f"  p95 {percentile(stored_lags, 0.95):5.2f} s"
    )


def relative_exits(api: Api, loaded: Loaded, args: argparse.Namespace) -> None:
    cohort = f"exit-{time.time_ns()}"
    definition = {
        "condition_groups": [
            {"conditions": [metric_condition(loaded.metrics["Placed Order"], 1, in_the_last(1, "hour"))]},
            {
                "conditions": [
                    {
                        "type": "profile-property",
                        "property": "properties['bench_cohort']",
                        "filter": {"type": "string", "operator": "equals", "value": cohort},
                    }
                ]
            },
        ]
    }
    # The profiles must exist (with their cohort) before the segment, so its build finds them.
    first = time.time() + args.exit_lead
    count = args.exit_profiles
    boundaries = {
        f"{cohort}-{k}@example.com": first + args.exit_spread * k / max(1, count - 1) for k in range(count)
    }
    segment = api.create_segment(f"Ordered in the last hour ({cohort})", definition)
    for email, boundary in boundaries.items():
        at = dt.datetime.fromtimestamp(boundary, dt.UTC) - dt.timedelta(hours=1)
        api.event(email, at, f"{email}-order", {"bench_cohort": cohort})
    ids: dict[str, str] = {}
    deadline = time.time() + 30
    while len(ids) < count and time.time() < deadline:
        for email in boundaries:
            if email not in ids:
                page = api.client.get(
                    f"/api/segments/{segment}/profiles", params={"filter": f'equals(email,"{email}")'}
                ).json()
                if page["data"]:
                    ids[email] = page["data"][0]["id"]
        time.sleep(0.2)
    entered = time.time()
    print(
        f"relative-time exits: {len(ids)}/{count} profiles in 'Placed Order in the last 1 hour' "
        f"{entered - (first - args.exit_lead):.1f} s after their events; boundaries from "
        f"+{first - entered:.0f} s to +{first + args.exit_spread - entered:.0f} s",
        flush=True,
    )
    exits: dict[str, float] = {}
    stop = first + args.exit_spread + args.exit_timeout
    while len(exits) < len(ids) and time.time() < stop:
        members = api.member_ids(segment)
        now = time.time()
        for email, pid in ids.items():
            if email not in exits and pid not in members:
                exits[email] = now
        time.sleep(max(0.0, 1.0 - (time.time() - now)))
    lateness = [exits[e] - boundaries[e] for e in exits]
    early = [x for x in lateness if x < -1.0]
    missing = len(ids) - len(exits)
    if lateness:
        print(
            f"  lateness after the boundary   p50 {statistics.median(lateness):5.1f} s  "
            f"p95 {percentile(lateness, 0.95):5.1f} s  max {max(lateness):5.1f} s   target p95 <= 60 s"
        )
    print(
        f"  {len(exits)} exits observed (polled once a second), {missing} not exited "
        f"{args.exit_timeout} s after the last boundary, {len(early)} before their boundary"
    )
    print("  baseline: the boundary itself (lateness 0 s)")


# ------------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="builds (and baseline queries) timed")
    parser.add_argument("--reuse", action="store_true", help="keep the build data of an earlier run")
    parser.add_argument("--large", action="store_true", help="also build a segment of most profiles")
    parser.add_argument("--live-profiles", type=int, default=20_000)
    parser.add_argument("--live-events", type=int, default=200_000)
    parser.add_argument("--segments", type=int, default=100)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="worker threads of the server")
    parser.add_argument("--exit-profiles", type=int, default=20)
    parser.add_argument("--exit-lead", type=float, default=20.0, help="seconds before the first exit")
    parser.add_argument("--exit-spread", type=float, default=120.0, help="seconds the exits are spread over")
    parser.add_argument("--exit-timeout", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--database", default="tidings_bench_segments_build")
    parser.add_argument("--live-database", default="tidings_bench_segments_live")
    parser.add_argument("--only", choices=("build", "live"))
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    configure_logging("WARNING", "console")
    print(f"machine: {machine()}; database: PostgreSQL; load average {load_average()}")

    if args.only != "live":
        url = database_url(args.database)
        loaded = reuse(url, args.profiles, args.events, args.seed) if args.reuse else None
        if loaded is None:
            print(
                f"loading {args.profiles:,} profiles and {args.events:,} events into {url.rsplit('/', 1)[1]}"
            )
            loaded = load(url, args.profiles, args.events, args.seed)
        else:
            print(f"reusing {len(loaded.profile_ids):,} profiles loaded at {loaded.now:%Y-%m-%d %H:%M}")
        bench_build(url, loaded, args.repeat)
        if args.large:
            bench_large(url, loaded)
        print(f"load average {load_average()}", flush=True)

    if args.only != "build":
        url = database_url(args.live_database)
        print(
            f"\nloading {args.live_profiles:,} profiles and {args.live_events:,} events for the live server"
        )
        loaded = load(url, args.live_profiles, args.live_events, args.seed)
        bench_live(url, loaded, args)
        print(f"load average {load_average()}")


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


if __name__ == "__main__":
    main()
