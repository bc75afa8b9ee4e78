"""Scheduled feed syncs as background jobs: a download's deadline and size limit, the network
lane (a slow feed server never holds up events), leases shorter than a download, and the apply
steps that each commit."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tests.catalogs.factories import PREFIX
from tests.conftest import AccountKeys
from tidings.app import create_app
from tidings.catalogs import sync
from tidings.catalogs.tables import CatalogFeed, CatalogItem
from tidings.config import Settings, get_settings
from tidings.db.base import utcnow
from tidings.db.session import Database
from tidings.events.tables import Event
from tidings.jobs.tables import DONE, QUEUED, Job
from tidings.jobs.worker import drain

ITEMS = [
    {"id": f"F{n}", "title": f"Item {n}", "description": "d", "link": f"https://shop.example.com/{n}"}
    for n in range(5)
]


@dataclass
class FeedServer:
    """A feed server on 127.0.0.1 that can be slow: /static.json (with its length),
    /stream.json (no length), /slow.json (the feed in pieces over about 2.5 s), /trickle.json
    (a byte every 0.1 s, until the test ends)."""

    url: str = ""
    body: bytes = json.dumps(ITEMS[:2]).encode()
    hits: Counter[str] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    state = FeedServer()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            state.hits[path] += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if path == "/static.json":
                self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            try:
                if path == "/trickle.json":
                    self.wfile.write(b"[")
                    while not state.stop.wait(0.1):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                elif path == "/slow.json":
                    pieces = [state.body[i : i + 8] for i in range(0, len(state.body), 8)]
                    for piece in pieces:
                        self.wfile.write(piece)
                        self.wfile.flush()
                        state.stop.wait(2.5 / len(pieces))
                else:
                    self.wfile.write(state.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    state.stop.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def feed_limits(monkeypatch) -> Iterator[Callable[..., None]]:  # type: ignore[no-untyped-def]
    """Set TIDINGS_FEED_* for the job handlers, which read the process's settings."""

    def set_limits(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"TIDINGS_{name.upper()}", str(value))
        get_settings.cache_clear()

    yield set_limits
    get_settings.cache_clear()


def _schedule(db: Database, account_id: str, url: str) -> None:
    with db.write() as session:
        sync.set_feed(session, account_id, url, 3600, allow_private=True)
        assert sync.enqueue_due_feeds(session, utcnow()) >= 1


def _feed(db: Database, account_id: str) -> CatalogFeed:
    with db.read() as session:
        feed = session.get(CatalogFeed, account_id)
        assert feed is not None
        return feed


def _items(db: Database, account_id: str) -> list[str]:
    with db.read() as session:
        query = select(CatalogItem.id).where(CatalogItem.account_id == account_id).order_by(CatalogItem.id)
        return [i.removeprefix(PREFIX) for i in session.execute(query).scalars()]


def _jobs(db: Database, account_id: str, name: str) -> list[Job]:
    with db.read() as session:
        query = select(Job).where(Job.account_id == account_id, Job.name == name).order_by(Job.id)
        return list(session.execute(query).scalars())


def _wait_for(condition: Callable[[], object], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


@contextmanager
def _serving(settings: Settings, **changes: object) -> Iterator[TestClient]:
    """The app as `tidings serve` runs it with these settings, its workers included."""
    changed = settings.model_copy(update={"job_poll_interval": 0.05, **changes})
    db = Database(changed)
    try:
        with TestClient(create_app(changed, db=db)) as client:
            yield client
    finally:
        db.dispose()


def test_a_feed_server_that_trickles_holds_up_neither_events_nor_its_worker_for_long(
    db, settings, account: AccountKeys, feed_server: FeedServer, feed_limits
) -> None:
    """Issue 16: with the default single worker, a feed sending a byte every few seconds held
    the worker, and an unrelated event waited behind it."""
    feed_limits(feed_timeout_seconds=3)
    _schedule(db, account.id, f"{feed_server.url}/trickle.json")
    with _serving(settings, workers=1) as client:
        _wait_for(lambda: feed_server.hits["/trickle.json"], 5)
        assert feed_server.hits["/trickle.json"] == 1  # the download has begun
        body = {
            "data": {
                "type": "event",
                "attributes": {
                    "properties": {},
                    "metric": {"data": {"type": "metric", "attributes": {"name": "Viewed Product"}}},
                    "profile": {"data": {"type": "profile", "attributes": {"email": "ada@example.com"}}},
                },
            }
        }
        assert client.post("/api/events", json=body, headers=account.headers()).status_code == 202

        def events() -> int:
            with db.read() as session:
                query = select(func.count()).select_from(Event).where(Event.account_id == account.id)
                return int(session.execute(query).scalar_one())

        _wait_for(events, 2.5)
        assert events() == 1, "the event waited behind the feed download"
        assert not _feed(db, account.id).last_finished_at  # the download still runs
        _wait_for(lambda: _feed(db, account.id).last_finished_at, 5)
    status = _feed(db, account.id).last_status or ""
    assert status == "failed: could not download the feed: it took longer than 3 seconds"


@pytest.mark.parametrize("path", ["/static.json", "/stream.json"])  # with a Content-Length, or counted
def test_a_feed_larger_than_the_limit_is_refused(
    db, account: AccountKeys, feed_server, feed_limits, path
) -> None:
    feed_limits(feed_max_bytes=100)
    _schedule(db, account.id, f"{feed_server.url}{path}")
    drain(db)
    status = _feed(db, account.id).last_status
    assert status == "failed: could not download the feed: the response is larger than 100 bytes"
    assert _items(db, account.id) == []


def test_a_feed_slower_than_the_job_lease_is_downloaded_once(
    db, settings, account: AccountKeys, feed_server: FeedServer
) -> None:
    """Issue 16: a download longer than the lease was taken over by another worker again and
    again; the feed was downloaded 28 times and its items never created."""
    _schedule(db, account.id, f"{feed_server.url}/slow.json")
    with _serving(settings, workers=2, network_workers=2, job_lease_seconds=1):
        _wait_for(lambda: _feed(db, account.id).last_status == "ok", 10)
    assert _feed(db, account.id).last_status == "ok"
    assert feed_server.hits["/slow.json"] == 1
    assert _items(db, account.id) == ["F0", "F1"]
    (download,) = _jobs(db, account.id, "catalogs.sync_feed")
    assert (download.status, download.attempts, download.lane) == (DONE, 1, "network")


def test_a_feed_is_applied_in_steps_that_each_commit_and_resume_after_a_failure(
    db, account: AccountKeys, feed_server: FeedServer, monkeypatch
) -> None:
    from tidings.catalogs import feed_runs

    monkeypatch.setattr(feed_runs, "CHUNK_SIZE", 2)
    feed_server.body = json.dumps(ITEMS).encode()
    real_apply = sync.apply_batch
    calls: list[int] = []

    def apply_batch(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away in the second step")
        real_apply(*args, **kwargs)

    monkeypatch.setattr(sync, "apply_batch", apply_batch)
    _schedule(db, account.id, f"{feed_server.url}/static.json")
    drain(db)
    assert _feed(db, account.id).last_status == "applying: 1 of 3 batches done"
    assert _items(db, account.id) == ["F0", "F1"]  # the first step committed
    steps = _jobs(db, account.id, "catalogs.apply_feed")
    assert [(s.payload["seq"], s.status, s.lane) for s in steps] == [
        (0, DONE, "default"),
        (1, QUEUED, "default"),
    ]
    with db.write() as session:  # its backoff passes
        session.execute(update(Job).where(Job.id == steps[1].id).values(run_at=utcnow()))
    drain(db)
    feed = _feed(db, account.id)
    assert feed.last_status == "ok" and feed_server.hits["/static.json"] == 1  # not downloaded again
    assert _items(db, account.id) == ["F0", "F1", "F2", "F3", "F4"]
    assert feed.last_summary is not None
    assert (feed.last_summary["records"], feed.last_summary["items_created"]) == (5, 5)
    assert len(calls) == 4  # each chunk applied once, the failed one again
    with db.read() as session:
        from tidings.catalogs.tables import CatalogFeedChunk

        left = session.execute(select(CatalogFeedChunk).where(CatalogFeedChunk.account_id == account.id))
        assert left.first() is None
    assert dt.timedelta(0) <= utcnow() - feed.last_finished_at  # type: ignore[operator]
