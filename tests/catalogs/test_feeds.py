"""`tidings catalog sync` and scheduled feeds: JSON and CSV, idempotent, with a summary."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.catalogs.factories import PREFIX
from tests.conftest import AccountKeys
from tidings.catalogs import history, sync
from tidings.catalogs.feeds import open_products
from tidings.catalogs.tables import CatalogFeed
from tidings.cli import app
from tidings.config import get_settings
from tidings.jobs.worker import drain

FEED = [
    {
        "id": "P1",
        "title": "Shirt",
        "description": "Cotton",
        "link": "https://shop.example.com/p1",
        "price": "19.99 USD",
        "image_link": "https://shop.example.com/p1.png",
        "categories": ["Men/Shirts", "Sale"],
        "brand": "Acme",
        "inventory_quantity": 3,
    },
    {
        "external_id": "P2",
        "title": "Hat",
        "description": "Wool",
        "url": "https://shop.example.com/p2",
        "price": 5,
        "images": ["https://shop.example.com/p2.png"],
        "published": False,
        "variants": [
            {"id": "P2-S", "sku": "HAT-S", "inventory_quantity": 0},
            {"id": "P2-L", "inventory_quantity": 2, "price": 6, "title": "Large hat"},
        ],
    },
    {"id": "P3", "title": "No description", "url": "https://shop.example.com/p3"},
    {
        "id": "P4",
        "title": "t",
        "description": "d",
        "url": "u",
        "variants": [{"id": "P4-1", "inventory_quantity": "many"}],
    },
]


@pytest.fixture
def run(monkeypatch, database_url, db):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TIDINGS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def _get(client, account: AccountKeys, path: str) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(path, headers=account.headers())
    assert response.status_code == 200, response.text
    return response.json()


def _sync(run, source: str, account: AccountKeys, *extra: str) -> dict:  # type: ignore[no-untyped-def]
    result = run("catalog", "sync", source, "--account", account.id, "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_json_feed_is_imported_and_a_second_sync_changes_nothing(run, tmp_path, client, account, db) -> None:
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(FEED))
    first = _sync(run, str(path), account)
    assert (first["records"], first["items_created"], first["variants_created"], first["failed"]) == (
        4,
        2,
        3,
        2,
    )
    assert first["categories_created"] == 2
    assert [e["record"] for e in first["errors"]] == [3, 4]
    assert (
        "description" in first["errors"][0]["detail"] and "inventory_quantity" in first["errors"][1]["detail"]
    )

    shirt = _get(client, account, f"/api/catalog-items/{PREFIX}P1")["data"]["attributes"]
    assert (shirt["title"], shirt["url"], shirt["price"]) == ("Shirt", "https://shop.example.com/p1", 19.99)
    assert shirt["image_full_url"] == "https://shop.example.com/p1.png"
    assert shirt["custom_metadata"] == {"brand": "Acme"}
    default_variant = _get(client, account, f"/api/catalog-variants/{PREFIX}P1")["data"]["attributes"]
    assert (default_variant["inventory_quantity"], default_variant["price"], default_variant["sku"]) == (
        3,
        19.99,
        "P1",
    )
    hat = _get(client, account, f"/api/catalog-items/{PREFIX}P2?include=variants")
    assert hat["data"]["attributes"]["published"] is False
    by_id = {v["id"]: v["attributes"] for v in hat["included"]}
    assert by_id[PREFIX + "P2-S"]["sku"] == "HAT-S" and by_id[PREFIX + "P2-S"]["price"] == 5
    assert by_id[PREFIX + "P2-L"]["title"] == "Large hat" and by_id[PREFIX + "P2-L"]["price"] == 6
    categories = _get(client, account, f"/api/catalog-items/{PREFIX}P1/categories")["data"]
    assert sorted((c["id"], c["attributes"]["name"]) for c in categories) == [
        (PREFIX + "Men-Shirts", "Men/Shirts"),
        (PREFIX + "Sale", "Sale"),
    ]
    updated_before = shirt["updated"]

    second = _sync(run, str(path), account)
    assert (second["items_created"], second["items_updated"], second["items_unchanged"]) == (0, 0, 2)
    assert (second["variants_created"], second["variants_updated"], second["variants_unchanged"]) == (0, 0, 3)
    again = _get(client, account, f"/api/catalog-items/{PREFIX}P1")["data"]["attributes"]
    assert again["updated"] == updated_before


def test_feed_changes_update_rows_and_record_history(run, tmp_path, client, account, db) -> None:
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(FEED[:2]))
    _sync(run, str(path), account)
    changed = json.loads(json.dumps(FEED[:2]))
    changed[0]["price"] = 17
    changed[1]["variants"][0]["inventory_quantity"] = 4
    path.write_text(json.dumps(changed))
    result = _sync(run, str(path), account)
    # P1's price changed (its default variant takes it too); P2-S's inventory changed.
    assert (result["items_updated"], result["variants_updated"], result["variants_unchanged"]) == (1, 2, 1)
    with db.read() as session:
        got = sorted(
            (c.resource_type, c.resource_id.removeprefix(PREFIX), c.field, c.old_value, c.new_value, c.source)
            for c in history.changes_since(session, account.id)
        )
    assert got == [
        ("catalog-item", "P1", "price", 19.99, 17, "feed"),
        ("catalog-variant", "P1", "price", 19.99, 17, "feed"),
        ("catalog-variant", "P2-S", "inventory_quantity", 0, 4, "feed"),
    ]


def test_csv_feed_with_variant_rows(run, tmp_path, client, account) -> None:
    path = tmp_path / "feed.csv"
    path.write_text(
        "id,title,description,link,price,categories,color,variant_id,variant_inventory_quantity,variant_sku\n"
        "C1,Coat,Warm,https://x/c1,99.5,Outer|Winter,red,C1-S,1,CS\n"
        "C1,Coat,Warm,https://x/c1,99.5,Outer|Winter,red,C1-M,0,CM\n"
        "C2,Cap,Soft,https://x/c2,9,,,,,\n"
        "C3,Broken,d,https://x/c3,cheap,,,,,\n"
    )
    result = _sync(run, str(path), account)
    assert (result["items_created"], result["variants_created"], result["failed"]) == (2, 2, 1)
    assert result["errors"][0]["record"] == 3
    coat = _get(client, account, f"/api/catalog-items/{PREFIX}C1?include=variants")
    assert coat["data"]["attributes"]["price"] == 99.5
    assert coat["data"]["attributes"]["custom_metadata"] == {"color": "red"}
    assert sorted(v["attributes"]["sku"] for v in coat["included"]) == ["CM", "CS"]


def test_bad_source_and_unknown_account_fail_with_a_message(run, tmp_path, account) -> None:
    result = run("catalog", "sync", str(tmp_path / "missing.json"), "--account", account.id)
    assert result.exit_code == 1 and "Cannot open" in result.output
    result = run("catalog", "sync", str(tmp_path / "missing.json"), "--account", "nope00")
    assert result.exit_code == 1 and "No account" in result.output
    broken = tmp_path / "broken.json"
    broken.write_text('[{"id": "A", "title": "t", "description": "d", "url": "u"}, {"id": ')
    result = run("catalog", "sync", str(broken), "--account", account.id)
    assert result.exit_code == 1 and "could not be read" in result.output


@pytest.mark.parametrize(
    "text",
    [
        '{"items": [{"id": "W1", "title": "t", "description": "d", "url": "u"}], "count": 1}',
        '{"id": "W1", "title": "t", "description": "d", "url": "u"}\n',
        '[{"id": "W1", "title": "t", "description": "d", "url": "u"}]',
    ],
)
def test_json_shapes(tmp_path: Path, text: str) -> None:
    path = tmp_path / "f.json"
    path.write_text(text)
    with path.open("rb") as raw:
        _counter, products = open_products(str(path), raw)
        got = list(products)
    assert [p.item["external_id"] for p in got] == ["W1"]  # type: ignore[union-attr]


class _Feed(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def feed_server(tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    (tmp_path / "feed.json").write_text(json.dumps(FEED[:2]))
    handler = lambda *a, **kw: _Feed(*a, directory=str(tmp_path), **kw)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_sync_from_a_url(run, feed_server, client, account) -> None:
    result = _sync(run, f"{feed_server}/feed.json", account)
    assert result["items_created"] == 2
    assert _get(client, account, f"/api/catalog-items/{PREFIX}P2")["data"]["attributes"]["title"] == "Hat"


def test_scheduled_feed_runs_per_account(run, feed_server, client, db, account) -> None:
    result = run(
        "catalog", "feed", "set", f"{feed_server}/feed.json", "--account", account.id, "--every", "3600"
    )
    assert result.exit_code == 0, result.output
    assert run("catalog", "feed", "set", "ftp://x/feed.json", "--account", account.id).exit_code == 1
    now = dt.datetime.now(dt.UTC)
    with db.write() as session:
        assert sync.enqueue_due_feeds(session, now) >= 1
    drain(db)
    assert _get(client, account, f"/api/catalog-items/{PREFIX}P1")["data"]["attributes"]["title"] == "Shirt"
    with db.read() as session:
        feed = session.get(CatalogFeed, account.id)
        assert feed is not None and feed.last_status == "ok"
        assert feed.last_summary is not None and feed.last_summary["items_created"] == 2
    with db.write() as session:  # not due again before its interval
        before = [f.last_started_at for f in sync.list_feeds(session, account.id)]
        sync.enqueue_due_feeds(session, now + dt.timedelta(seconds=60))
        assert [f.last_started_at for f in sync.list_feeds(session, account.id)] == before
    shown = run("catalog", "feed", "show", "--account", account.id)
    assert "ok" in shown.output and feed_server in shown.output
    assert "removed" in run("catalog", "feed", "remove", "--account", account.id).output


def test_scheduled_feed_that_cannot_be_downloaded_records_why(db, account) -> None:
    with db.write() as session:
        sync.set_feed(session, account.id, "http://127.0.0.1:9/missing.json", 3600, allow_private=True)
        sync.enqueue_due_feeds(session, dt.datetime.now(dt.UTC))
    drain(db)
    with db.read() as session:
        feed = session.get(CatalogFeed, account.id)
        assert feed is not None and feed.last_status is not None
        assert feed.last_status.startswith("failed: could not download")
    with db.write() as session:
        sync.remove_feed(session, account.id)


def test_small_batches_in_parallel_keep_feed_order_for_repeated_ids(run, tmp_path, client, account) -> None:
    records = [
        {"id": f"S{n}", "title": f"v{n}", "description": "d", "url": "u", "categories": ["Shared"],
         "price": n, "sku": f"K{n}", "inventory_quantity": n}
        for n in range(6)
    ]  # fmt: skip
    records.append({**records[1], "title": "last one wins"})
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(records))
    result = _sync(run, str(path), account, "--batch-size", "1", "--writers", "3")
    assert (result["records"], result["items_created"], result["categories_created"]) == (7, 6, 1)
    assert (
        _get(client, account, f"/api/catalog-items/{PREFIX}S1")["data"]["attributes"]["title"]
        == "last one wins"
    )
    members = _get(client, account, f"/api/catalog-categories/{PREFIX}Shared/relationships/items")["data"]
    assert len(members) == 6


def test_awkward_values_are_stored_exactly_and_a_resync_leaves_them(run, tmp_path, client, account) -> None:
    """The rows travel as one JSON document on PostgreSQL: text, floats and metadata come back
    exactly, so the next sync finds nothing different."""
    title = 'Crème "brûlée" \\ 10% \u2013 ☕ 𝄞 \t tab'
    records = [
        {"id": "Q1", "title": title, "description": "line\nbreak", "url": "https://x/q?a=1&b='2'",
         "price": 0.1 + 0.2, "images": ["https://x/1.png", "https://x/2.png"],
         "custom_metadata": {"sizes": ["S", "M"], "weight": 1e-7, "big": 12345678901234567, "ok": True,
                             "none": None, "ünïcode": "ĳ"},
         "variants": [{"id": "Q1-1", "inventory_quantity": 1e15 + 0.5, "price": 1 / 3, "sku": "Ω-1"}]},
    ]  # fmt: skip
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(records))
    first = _sync(run, str(path), account)
    assert (first["items_created"], first["variants_created"], first["failed"]) == (1, 1, 0)
    item = _get(client, account, f"/api/catalog-items/{PREFIX}Q1")["data"]["attributes"]
    assert (item["title"], item["description"], item["url"]) == (
        title,
        "line\nbreak",
        "https://x/q?a=1&b='2'",
    )
    assert item["price"] == 0.1 + 0.2 and item["images"] == ["https://x/1.png", "https://x/2.png"]
    assert item["custom_metadata"] == records[0]["custom_metadata"]
    variant = _get(client, account, f"/api/catalog-variants/{PREFIX}Q1-1")["data"]["attributes"]
    assert (variant["inventory_quantity"], variant["price"], variant["sku"]) == (1e15 + 0.5, 1 / 3, "Ω-1")
    again = _sync(run, str(path), account)
    assert (again["items_unchanged"], again["variants_unchanged"]) == (1, 1)


class _Trickle(io.RawIOBase):
    """A stream that returns at most `chunk` bytes per read."""

    def __init__(self, data: bytes, chunk: int) -> None:
        self.data, self.chunk = io.BytesIO(data), chunk

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self.data.read(self.chunk if size < 0 else min(size, self.chunk))


@pytest.mark.parametrize("chunk", [1, 3, 5, 64, 1 << 20])
def test_a_nul_character_is_refused_wherever_the_reads_split_it(chunk: int) -> None:
    records = [
        {"id": f"N{n}", "title": "t\u0000" if n == 7 else "t", "description": "d", "url": "u"}
        for n in range(9)
    ]
    csv_text = "id,title,description,url\nC1,t,d,u\nC2,t\u0000,d,u\n"
    for name, data in (("f.json", json.dumps(records).encode()), ("f.csv", csv_text.encode())):
        _counter, products = open_products(name, _Trickle(data, chunk))
        failed = [p for p in products if isinstance(p, tuple)]
        assert failed == [(8 if name == "f.json" else 2, "Text may not contain NUL (U+0000) characters.")]
