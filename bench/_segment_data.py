"""Generated data for bench/segments.py, COPY-loaded into the real Tidings tables.

Profiles with realistic emails, names, locations and a few custom properties; email-marketing
consent for about two thirds of those with an email (12% of them unsubscribed), suppressions for
2.5%; events over two years across nine metrics, in time order, with a skewed activity per
profile. Keys and indexes are dropped around the COPY and recreated from their own definitions
(so they are exactly the migrations'), then VACUUM ANALYZE.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from _common import fresh_database, migrate_and_account
from sqlalchemy.engine import make_url

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TABLES = ("profiles", "profile_subscriptions", "email_suppressions", "events")
METRICS = [  # name, integration, share of the events
    ("Active on Site", "api", 0.22),
    ("Viewed Product", "api", 0.36),
    ("Added to Cart", "api", 0.09),
    ("Started Checkout", "api", 0.04),
    ("Placed Order", "api", 0.05),
    ("Ordered Product", "api", 0.04),
    ("Received Email", "klaviyo", 0.12),
    ("Opened Email", "klaviyo", 0.06),
    ("Clicked Email", "klaviyo", 0.02),
]
FIRST = [
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas", "Mia",
    "Mateo", "Amelia", "Leo", "Harper", "Ethan", "Luna", "Jack", "Ella", "Aiden", "Chloe", "Henry",
    "Nora", "Owen", "Zoe", "Sam", "Lea", "Finn", "Clara", "Jonas", "Marie", "Paul", "Anna", "Luca",
    "Sara", "Hugo", "Ines", "Omar", "Yara", "Kenji", "Aiko", "Raj", "Priya", "Chen", "Mei", "Diego",
    "Lucia", "Ivan", "Olga", "Tom",
]  # fmt: skip
LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
    "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King",
    "Wright", "Scott", "Hill", "Green", "Adams", "Baker", "Mueller", "Schmidt", "Fischer", "Weber",
    "Rossi", "Bianchi", "Dubois", "Moreau", "Silva", "Santos", "Kowalski", "Novak", "Tanaka", "Sato",
    "Kim", "Nguyen",
]  # fmt: skip
DOMAINS = (
    ["gmail.com"] * 9
    + ["yahoo.com"] * 3
    + ["outlook.com"] * 3
    + ["hotmail.com"] * 2
    + [
        "icloud.com",
        "gmx.de",
        "web.de",
        "orange.fr",
        "proton.me",
        "acme-corp.com",
    ]
)
PLACES = [
    ("United States", "New York", "NY", "America/New_York"),
    ("United States", "Austin", "TX", "America/Chicago"),
    ("United States", "Seattle", "WA", "America/Los_Angeles"),
    ("Canada", "Toronto", "ON", "America/Toronto"),
    ("United Kingdom", "London", "England", "Europe/London"),
    ("Germany", "Berlin", "Berlin", "Europe/Berlin"),
    ("France", "Lyon", "Auvergne-Rhone-Alpes", "Europe/Paris"),
    ("Netherlands", "Utrecht", "Utrecht", "Europe/Amsterdam"),
    ("Australia", "Sydney", "NSW", "Australia/Sydney"),
]
TIERS = ["bronze"] * 50 + ["silver"] * 25 + ["gold"] * 15 + ["platinum"] * 5 + [None] * 5
PRODUCTS = [
    f"{a} {b}"
    for a in ["Classic", "Organic", "Vintage", "Slim", "Everyday", "Travel", "Studio", "Trail"]
    for b in ["Mug", "Tote", "Hoodie", "Sneaker", "Candle", "Backpack", "Lamp", "Scarf", "Bottle", "Notebook"]
]
BRANDS = ["Acme", "Northwind", "Globex", "Initech", "Umbrella", "Hooli"]


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ulid_at(ms: int, rnd: random.Random) -> str:
    value = (ms << 80) | rnd.getrandbits(80)
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def ts(at: dt.datetime) -> str:
    return at.isoformat()


# ------------------------------------------------------------------------------------ data


@dataclass
class Loaded:
    account_id: str
    private_key: str
    metrics: dict[str, str]  # name -> id
    now: dt.datetime  # the newest event's instant is just before this
    profile_ids: list[str]
    emails: list[str | None]


def profile_rows(
    account: str, count: int, now: dt.datetime, rnd: random.Random, loaded: Loaded
) -> Iterator[str]:
    start = now - dt.timedelta(days=3 * 365)
    span = (now - start).total_seconds()
    for n in range(count):
        created = start + dt.timedelta(seconds=span * n / count + rnd.random() * 60)
        pid = ulid_at(int(created.timestamp() * 1000), rnd)
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        has_email = rnd.random() < 0.97
        email = f"{first.lower()}.{last.lower()}{n}@{rnd.choice(DOMAINS)}" if has_email else None
        phone = f"+1{2_000_000_000 + n}" if (not has_email or rnd.random() < 0.35) else None
        external = f"shop-{n}" if rnd.random() < 0.4 else None
        tier = rnd.choice(TIERS)
        props: dict[str, Any] = {
            "plan": rnd.choice(("free", "free", "basic", "pro")),
            "signup_source": rnd.choice(("checkout", "popup", "footer", "import")),
            "lifetime_orders": int(rnd.expovariate(0.5)),
            "accepts_sms": rnd.random() < 0.3,
        }
        if tier is not None:
            props["loyalty_tier"] = tier
        if rnd.random() < 0.3:
            props["birthday"] = f"{rnd.randint(1950, 2006)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        if rnd.random() < 0.7:
            country, city, region, zone = rnd.choice(PLACES)
            location = json.dumps(
                {
                    "country": country,
                    "city": city,
                    "region": region,
                    "zip": f"{rnd.randint(10000, 99999)}",
                    "timezone": zone,
                }
            )
        else:
            location = "\\N"
        updated = created + dt.timedelta(days=rnd.random() * (now - created).days)
        loaded.profile_ids.append(pid)
        loaded.emails.append(email)
        yield (
            "\t".join(
                (
                    account,
                    pid,
                    email or "\\N",
                    phone or "\\N",
                    external or "\\N",
                    first,
                    last,
                    rnd.choice(("en-US", "en-GB", "de-DE", "fr-FR", "\\N", "\\N")),
                    location,
                    json.dumps(props),
                    ts(created),
                    ts(updated),
                )
            )
            + "\n"
        )


def consent_rows(account: str, loaded: Loaded, now: dt.datetime, rnd: random.Random) -> Iterator[str]:
    """Email marketing consent for about 65% of the profiles with an email (12% of those
    unsubscribed); the others have no row (never subscribed: implicit consent)."""
    for pid, email in zip(loaded.profile_ids, loaded.emails, strict=True):
        if email is None or rnd.random() >= 0.65:
            continue
        consent = "UNSUBSCRIBED" if rnd.random() < 0.12 else "SUBSCRIBED"
        at = ts(now - dt.timedelta(days=rnd.random() * 900))
        method = rnd.choice(("FORM", "API", "IMPORT", "CHECKOUT"))
        yield f"{account}\t{pid}\temail\tmarketing\t{consent}\t{at}\t{at}\t{method}\t{rnd.random() < 0.3}\tf\n"


SUPPRESSIONS = (
    ["HARD_BOUNCE"] * 40
    + ["UNSUBSCRIBE"] * 30
    + ["SPAM_COMPLAINT"] * 10
    + ["USER_SUPPRESSED"] * 15
    + ["INVALID_EMAIL"] * 5
)


def suppression_rows(account: str, loaded: Loaded, now: dt.datetime, rnd: random.Random) -> Iterator[str]:
    """Global email suppressions for 2.5% of the profiles with an email."""
    for pid, email in zip(loaded.profile_ids, loaded.emails, strict=True):
        if email is not None and rnd.random() < 0.025:
            at = ts(now - dt.timedelta(days=rnd.random() * 700))
            yield f"{account}\t{pid}\t{rnd.choice(SUPPRESSIONS)}\t{at}\n"


def property_pool(name: str, rnd: random.Random) -> list[tuple[str, str]]:
    """(properties JSON, value) samples per metric; events pick from them."""
    pool = []
    for i in range(500):
        items = rnd.sample(PRODUCTS, rnd.randint(1, 3))
        price = round(rnd.uniform(8, 120), 2)
        value = "\\N"
        if name == "Placed Order":
            total = round(price * len(items), 2)
            props = {
                "$value": total,
                "OrderId": f"{100000 + i}",
                "ItemNames": items,
                "Brands": [rnd.choice(BRANDS)],
                "ItemCount": len(items),
            }
            value = str(total)
        elif name == "Ordered Product":
            props = {"$value": price, "ProductName": items[0], "Brand": rnd.choice(BRANDS), "Quantity": 1}
            value = str(price)
        elif name == "Started Checkout":
            props = {"$value": round(price * len(items), 2), "ItemNames": items}
            value = props["$value"]  # type: ignore[assignment]
            value = str(value)
        elif name == "Viewed Product":
            props = {
                "ProductName": items[0],
                "ProductID": f"P{i}",
                "Brand": rnd.choice(BRANDS),
                "Price": price,
                "Categories": ["Home", rnd.choice(("Kitchen", "Outdoor", "Apparel"))],
            }
        elif name == "Added to Cart":
            props = {"AddedItemProductName": items[0], "AddedItemPrice": price, "ItemNames": items}
        elif name == "Active on Site":
            props = {"page": f"https://shop.example.com/products/{items[0].lower().replace(' ', '-')}"}
        else:
            props = {
                "Campaign Name": f"Newsletter {i % 40}",
                "Subject": f"New in: {items[0]}",
                "$message": f"msg{i % 40}",
            }
        pool.append((json.dumps(props), value))
    return pool


def event_rows(
    account: str, loaded: Loaded, count: int, now: dt.datetime, rnd: random.Random
) -> Iterator[str]:
    """`count` events over the two years before `now`, in time order (the table is append-only),
    the daily volume growing to twice the first day's; a few profiles are very active, about
    a third never act (email metrics reach everyone with an address)."""
    days = 730
    weights = [1 + d / days for d in range(days)]
    total_weight = sum(weights)
    names = [m[0] for m in METRICS]
    shares = [m[2] for m in METRICS]
    pools = {name: property_pool(name, rnd) for name in names}
    ids = loaded.profile_ids
    emailed = [i for i, e in enumerate(loaded.emails) if e is not None]
    people = len(ids)
    active = max(1, int(people * 0.65))
    start = now - dt.timedelta(days=days)
    made = 0
    for day in range(days):
        want = round(count * sum(weights[: day + 1]) / total_weight) - made
        made += want
        base = start + dt.timedelta(days=day)
        seconds = sorted(rnd.random() * 86400 for _ in range(want))
        picked = rnd.choices(names, shares, k=want)
        for at_s, name in zip(seconds, picked, strict=True):
            at = base + dt.timedelta(seconds=at_s)
            if at >= now:
                at = now - dt.timedelta(seconds=1)
            if name in ("Received Email", "Opened Email", "Clicked Email"):
                who = ids[emailed[int(rnd.random() * len(emailed))]]
            else:
                who = ids[(int(active * rnd.random() ** 2.5) * 7919) % people]
            ms = int(at.timestamp() * 1000)
            eid = ulid_at(ms, rnd)
            props, value = rnd.choice(pools[name])
            currency = "USD" if value != "\\N" else "\\N"
            stamp = ts(at)
            yield (
                f"{account}\t{eid}\t{loaded.metrics[name]}\t{who}\t{stamp}\t{value}\t{currency}\t"
                f"{props}\t{eid}\tf\tapi\t{stamp}\n"
            )


COLUMNS = {
    "profiles": "account_id, id, email, phone_number, external_id, first_name, last_name, locale, location,"
    " properties, created, updated",
    "profile_subscriptions": "account_id, profile_id, channel, purpose, consent, consent_timestamp,"
    " last_updated, method, double_optin, pending_double_optin",
    "email_suppressions": "account_id, profile_id, reason, timestamp",
    "events": "account_id, id, metric_id, profile_id, time, value, value_currency, properties, unique_id,"
    " backfill, source, received",
}


def copy_rows(conn: psycopg.Connection[Any], table: str, rows: Iterator[str]) -> int:
    n = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
        chunk: list[str] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == 20_000:
                copy.write("".join(chunk))
                n += len(chunk)
                chunk = []
        copy.write("".join(chunk))
        n += len(chunk)
    return n


def drop_keys(conn: psycopg.Connection[Any], table: str) -> list[str]:
    """Drop the table's constraints and indexes; returns the statements that recreate them as
    they were (the migrations' own definitions)."""
    recreate = []
    for name, definition in conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u') ORDER BY contype",
        (table,),
    ).fetchall():
        recreate.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, definition in conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", (table,)
    ).fetchall():
        recreate.append(definition)
        conn.execute(f'DROP INDEX "{name}"')
    return recreate


def load(url: str, profiles: int, events: int, seed: int) -> Loaded:
    """A fresh database with one account, migrated, and the generated data COPY-loaded."""
    engine = fresh_database(url)
    engine.dispose()
    keys = migrate_and_account(url)
    account = keys["account_id"]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    rnd = random.Random(seed)
    loaded = Loaded(account, keys["private_key"], {}, now, [], [])
    started = time.perf_counter()
    with psycopg.connect(dsn(url)) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for name, integration, _share in METRICS:
            metric_id = "M" + "".join(rnd.choice(CROCKFORD) for _ in range(5))
            loaded.metrics[name] = metric_id
            info = json.dumps({"object": "integration", "id": integration, "key": integration})
            conn.execute(
                "INSERT INTO metrics (account_id, id, name, integration_key, integration, created, updated) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (account, metric_id, name, integration, info, now - dt.timedelta(days=800), now),
            )
        recreate = [stmt for table in TABLES for stmt in drop_keys(conn, table)]
        conn.commit()
        counts = {
            "profiles": copy_rows(conn, "profiles", profile_rows(account, profiles, now, rnd, loaded)),
            "profile_subscriptions": copy_rows(
                conn, "profile_subscriptions", consent_rows(account, loaded, now, rnd)
            ),
            "email_suppressions": copy_rows(
                conn, "email_suppressions", suppression_rows(account, loaded, now, rnd)
            ),
        }
        conn.commit()
        print(f"  COPY profiles, consent, suppressions: {time.perf_counter() - started:.0f} s", flush=True)
        counts["events"] = copy_rows(conn, "events", event_rows(account, loaded, events, now, rnd))
        conn.commit()
        print(f"  COPY events: {time.perf_counter() - started:.0f} s", flush=True)
        for stmt in recreate:
            conn.execute(stmt)
            conn.commit()
        print(f"  keys and indexes recreated: {time.perf_counter() - started:.0f} s", flush=True)
        conn.autocommit = True
        for table in TABLES:
            conn.execute(f"VACUUM ANALYZE {table}")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_meta (profiles int, events int, seed int, now timestamptz,"
            " private_key text)"
        )
        conn.execute(
            "INSERT INTO bench_meta VALUES (%s, %s, %s, %s, %s)",
            (profiles, events, seed, now, keys["private_key"]),
        )
    elapsed = time.perf_counter() - started
    print(
        "  loaded "
        + ", ".join(f"{n:,} {t}" for t, n in counts.items())
        + f" in {elapsed:.0f} s (VACUUM ANALYZE included)",
        flush=True,
    )
    return loaded


def reuse(url: str, profiles: int, events: int, seed: int) -> Loaded | None:
    """The data an earlier run loaded with the same sizes and seed, if it is there."""
    try:
        conn = psycopg.connect(dsn(url))
    except psycopg.OperationalError:
        return None
    with conn:
        if conn.execute("SELECT to_regclass('bench_meta')").fetchone() == (None,):
            return None
        row = conn.execute(
            "SELECT now, private_key FROM bench_meta WHERE profiles = %s AND events = %s AND seed = %s",
            (profiles, events, seed),
        ).fetchone()
        account = conn.execute("SELECT id FROM accounts").fetchone()
        if row is None or account is None:
            return None
        metrics: dict[str, str] = dict(
            conn.execute("SELECT name, id FROM metrics WHERE account_id = %s", account).fetchall()
        )
        loaded = Loaded(account[0], row[1], metrics, row[0], [], [])
        for pid, email in conn.execute(
            "SELECT id, email FROM profiles WHERE account_id = %s ORDER BY id", account
        ):
            loaded.profile_ids.append(pid)
            loaded.emails.append(email)
        return loaded
