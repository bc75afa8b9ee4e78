"""Web feeds through the SDK, refreshed from a local feed server on 127.0.0.1 through the outbound
guard, and rendered in templates from the stored content (never a network call while rendering)."""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from openapi_client.exceptions import BadRequestException, NotFoundException
from sqlalchemy import delete, select

from tests.conftest import AccountKeys
from tidings.config import Settings
from tidings.db.ids import ulid
from tidings.delivery.worker import deliver_due
from tidings.jobs.registry import JobContext
from tidings.jobs.tables import QUEUED, Job
from tidings.templates import messages
from tidings.web_feeds import jobs as feed_jobs
from tidings.web_feeds import service
from tidings.web_feeds.content import ContentError, parse
from tidings.web_feeds.tables import WebFeed

ARTICLES = {"articles": [{"title": "First <post>", "url": "https://blog.example/1"}, {"title": "Second"}]}
RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>'
    b"<item><title>One</title><link>https://blog.example/1</link></item>"
    b'<item><title>Two</title><enclosure url="https://img.example/2.png" type="image/png"/></item>'
    b"</channel></rss>"
)


@dataclass
class FeedServer:
    url: str
    routes: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture(scope="module")
def feeds() -> Iterator[FeedServer]:
    state = FeedServer("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            state.seen.append((self.command, self.path))
            status, kind, body = state.routes.get(self.path, (404, "text/plain", b"no such feed"))
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()


def serve(feeds: FeedServer, path: str, body: Any, status: int = 200, kind: str = "application/json") -> str:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    feeds.routes[path] = (status, kind, data)
    return f"{feeds.url}{path}"


def refresh_all(db, account_id: str) -> int:  # type: ignore[no-untyped-def]
    """Run the account's queued refresh jobs, as a network-lane worker would, one per transaction."""
    with db.read() as session:
        queued = list(
            session.execute(
                select(Job).where(
                    Job.account_id == account_id, Job.name == service.REFRESH_JOB, Job.status == QUEUED
                )
            ).scalars()
        )
        work = [(job.id, dict(job.payload)) for job in queued]
    for job_id, payload in work:
        with db.write() as session:
            feed_jobs.refresh_feed(session, JobContext(job_id, account_id, service.REFRESH_JOB, payload, 1))
            session.execute(delete(Job).where(Job.account_id == account_id, Job.id == job_id))
    return len(work)


def create(sdk, name: str, url: str, content_type: str = "json", method: str = "get"):  # type: ignore[no-untyped-def]
    attributes = {"name": name, "url": url, "request_method": method, "content_type": content_type}
    return sdk.Web_Feeds.create_web_feed({"data": {"type": "web-feed", "attributes": attributes}}).data


def render(sdk, html: str, context: dict[str, Any] | None = None) -> str:  # type: ignore[no-untyped-def]
    template = sdk.Templates.create_template(
        {
            "data": {
                "type": "template",
                "attributes": {"name": f"t-{ulid()}", "editor_type": "CODE", "html": html},
            }
        }
    ).data.id
    body = {"data": {"type": "template", "id": template, "attributes": {"context": context or {}}}}
    return str(sdk.Templates.render_template(body).data.attributes.html)


def test_sdk_crud_and_listing(sdk, feeds: FeedServer) -> None:  # type: ignore[no-untyped-def]
    blog = create(sdk, "Blog_posts", serve(feeds, "/crud/blog.json", ARTICLES))
    assert blog.attributes.status is None and blog.attributes.request_method == "get"
    news = create(sdk, "News", serve(feeds, "/crud/news.xml", RSS, kind="application/xml"), "xml", "post")
    assert sdk.Web_Feeds.get_web_feed(blog.id).data.attributes.url.endswith("/crud/blog.json")

    names = [f.attributes.name for f in sdk.Web_Feeds.get_web_feeds(sort="-name").data]
    assert names == ["News", "Blog_posts"]
    assert [f.id for f in sdk.Web_Feeds.get_web_feeds(filter="equals(name,'News')").data] == [news.id]
    assert [f.id for f in sdk.Web_Feeds.get_web_feeds(filter="contains(name,'Blog')").data] == [blog.id]
    assert [f.id for f in sdk.Web_Feeds.get_web_feeds(page_size=1).data] and True

    patch = {"data": {"type": "web-feed", "id": news.id, "attributes": {"name": "Newsroom"}}}
    assert sdk.Web_Feeds.update_web_feed(news.id, patch).data.attributes.name == "Newsroom"
    sdk.Web_Feeds.delete_web_feed(news.id)
    with pytest.raises(NotFoundException):
        sdk.Web_Feeds.get_web_feed(news.id)
    with pytest.raises(NotFoundException):
        sdk.Web_Feeds.delete_web_feed(news.id)


def test_bad_input_is_a_precise_400(sdk, client, account: AccountKeys, feeds: FeedServer) -> None:  # type: ignore[no-untyped-def]
    url = serve(feeds, "/bad/feed.json", ARTICLES)
    create(sdk, "Taken", url)

    def post(attributes: dict[str, Any]) -> tuple[int, str | None]:
        body = {"data": {"type": "web-feed", "attributes": attributes}}
        response = client.post("/api/web-feeds", json=body, headers=account.headers())
        error = response.json()["errors"][0] if response.status_code >= 400 else {}
        return response.status_code, error.get("source", {}).get("pointer")

    good = {"name": "x", "url": url, "request_method": "get", "content_type": "json"}
    assert post({**good, "name": "Taken"}) == (400, "/data/attributes/name")
    assert post({**good, "url": "ftp://example.com/feed"}) == (400, "/data/attributes/url")
    assert post({**good, "url": "not a url"}) == (400, "/data/attributes/url")
    assert post({**good, "content_type": "csv"})[0] == 400
    assert post({**good, "request_method": "put"})[0] == 400
    with pytest.raises(BadRequestException):
        for n in range(service.MAX_FEEDS):
            create(sdk, f"Many {n}", url)


def test_a_feed_is_fetched_by_a_job_and_rendered_from_its_cache(  # type: ignore[no-untyped-def]
    db, sdk, account: AccountKeys, feeds: FeedServer
) -> None:
    feed = create(sdk, "Blog_posts", serve(feeds, "/render/blog.json", ARTICLES))
    html = "{% for a in feeds.Blog_posts.articles %}<li>{{ a.title }}</li>{% endfor %}|{{ feeds.Missing.x }}|"
    assert render(sdk, html) == "||"  # not fetched yet: nothing to show
    assert refresh_all(db, account.id) == 1
    assert ("GET", "/render/blog.json") in feeds.seen
    assert sdk.Web_Feeds.get_web_feed(feed.id).data.attributes.status == "ok"
    assert render(sdk, html) == "<li>First &lt;post&gt;</li><li>Second</li>||"

    # A send's render reads the stored content: the feed server is not asked again.
    asked = len(feeds.seen)
    with db.read() as session:
        template = sdk.Templates.create_template(
            {
                "data": {
                    "type": "template",
                    "attributes": {"name": "send", "editor_type": "CODE", "html": html},
                }
            }
        ).data.id
        rendered = messages.render_template_message(
            session,
            template,
            messages.Recipient(account.id, {"id": ulid(), "email": "a@example.com"}),
            secret_key="s" * 32,
            public_url="http://127.0.0.1",
        )
    assert isinstance(rendered, messages.RenderedMessage) and "First &lt;post&gt;" in rendered.html
    assert len(feeds.seen) == asked

    # The server fails: the last good content stays, and the status says so.
    serve(feeds, "/render/blog.json", b"oops", status=500, kind="text/plain")
    with db.write() as session:
        session.execute(
            WebFeed.__table__.update()
            .where(WebFeed.account_id == account.id)
            .values(next_refresh_at=WebFeed.created)  # due now
        )
        service.enqueue_due(session, Settings(), service.utcnow())
    assert refresh_all(db, account.id) == 1
    assert sdk.Web_Feeds.get_web_feed(feed.id).data.attributes.status == "warning_periodic_refresh_timeout"
    assert "<li>Second</li>" in render(sdk, html)
    with db.read() as session:
        stored = session.get(WebFeed, (account.id, feed.id))
        assert (
            stored is not None and stored.last_error == "The feed answered HTTP 500." and stored.failures == 1
        )


def test_xml_feeds_and_post_requests(db, sdk, account: AccountKeys, feeds: FeedServer) -> None:  # type: ignore[no-untyped-def]
    create(sdk, "News", serve(feeds, "/xml/news.xml", RSS, kind="application/rss+xml"), "xml", "post")
    refresh_all(db, account.id)
    assert ("POST", "/xml/news.xml") in feeds.seen
    html = (
        "{{ feeds.News.rss.channel.title }}:{% for i in feeds.News.rss.channel.item %}"
        "[{{ i.title }}{% if i.enclosure %} {{ i.enclosure.url }}{% endif %}]{% endfor %}"
    )
    assert render(sdk, html) == "Blog:[One][Two https://img.example/2.png]"


def test_a_feed_that_never_loads_is_disabled(db, sdk, account: AccountKeys, feeds: FeedServer) -> None:  # type: ignore[no-untyped-def]
    broken = create(sdk, "Broken", serve(feeds, "/never/feed.json", b"{not json"))
    big = create(sdk, "Big", serve(feeds, "/never/big.json", {"x": "y" * 4096}))
    settings = Settings(allow_private_urls=True, web_feed_max_bytes=1024)  # a small bound, to try it
    with db.read() as session:
        jobs = list(
            session.execute(
                select(Job).where(Job.account_id == account.id, Job.name == service.REFRESH_JOB)
            ).scalars()
        )
        payloads = {str(j.payload["feed_id"]): dict(j.payload) for j in jobs}
    for payload in payloads.values():
        with db.write() as session:
            service.refresh(session, settings, account.id, payload)
    for feed, error in ((broken, "not valid JSON"), (big, "")):
        attributes = sdk.Web_Feeds.get_web_feed(feed.id).data.attributes
        assert attributes.status == "disabled"
        with db.read() as session:
            stored = session.get(WebFeed, (account.id, feed.id))
            assert stored is not None and stored.content is None and error in (stored.last_error or "")
    assert render(sdk, "[{{ feeds.Broken }}]") == "[]"


def test_changing_the_url_drops_the_old_content(db, sdk, account: AccountKeys, feeds: FeedServer) -> None:  # type: ignore[no-untyped-def]
    feed = create(sdk, "Moving", serve(feeds, "/move/a.json", {"v": "old"}))
    refresh_all(db, account.id)
    assert render(sdk, "{{ feeds.Moving.v }}") == "old"
    new_url = serve(feeds, "/move/b.json", {"v": "new"})
    patch = {"data": {"type": "web-feed", "id": feed.id, "attributes": {"url": new_url}}}
    assert sdk.Web_Feeds.update_web_feed(feed.id, patch).data.attributes.status is None
    assert render(sdk, "{{ feeds.Moving.v }}") == ""
    refresh_all(db, account.id)
    assert render(sdk, "{{ feeds.Moving.v }}") == "new"


def test_failures_move_to_nightly_then_critical() -> None:
    feed = WebFeed(
        account_id="x", id="f", generation=0, failures=0, fetched_at=service.utcnow(), content={"a": 1}
    )

    class Session:
        def get(self, *_args: Any) -> WebFeed:
            return feed

    statuses = []
    for _ in range(service.CRITICAL_AFTER):
        service.record(Session(), Settings(), "x", "f", 0, service.Fetched(error="down"))  # type: ignore[arg-type]
        statuses.append(feed.status)
    assert statuses[0] == "warning_periodic_refresh_timeout"
    assert statuses[service.NIGHTLY_AFTER - 1] == "warning_nightly_refresh_timeout"
    assert statuses[-1] == "critical_nightly_refresh_timeout" and feed.content == {"a": 1}
    assert feed.next_refresh_at - feed.attempted_at == service.NIGHTLY  # type: ignore[operator]
    service.record(Session(), Settings(), "x", "f", 1, service.Fetched(content={"b": 2}))  # type: ignore[arg-type]
    assert feed.content == {"a": 1}, "an outcome for a former URL is dropped"


def test_xml_to_template_data() -> None:
    assert parse(RSS, "xml")["rss"]["channel"]["item"][0] == {
        "title": "One",
        "link": "https://blog.example/1",
    }
    assert parse(b'<a x="1">t<b>u</b></a>', "xml") == {"a": {"x": "1", "b": "u", "text": "t"}}
    assert parse(b'<f xmlns="urn:x"><e>1</e></f>', "xml") == {"f": {"e": "1"}}
    with pytest.raises(ContentError):
        parse(b"<a><b></a>", "xml")
    entities = b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>'
    with pytest.raises(ContentError):
        parse(entities, "xml")


def test_a_sent_email_shows_the_feed_without_fetching_it(  # type: ignore[no-untyped-def]
    db, sdk, client, account: AccountKeys, feeds: FeedServer, settings: Settings, tmp_path
) -> None:
    """The delivery worker renders at send time from the stored content: no request to the feed."""
    create(sdk, "Deals", serve(feeds, "/send/deals.json", {"deals": [{"name": "Half off boots"}]}))
    refresh_all(db, account.id)
    asked = len(feeds.seen)
    attributes = {
        "idempotency_key": f"feed-{ulid()}",
        "profile": {"email": "ada@example.com"},
        "subject": "{{ feeds.Deals.deals.0.name }}",
        "html": "<p>{% for d in feeds.Deals.deals %}{{ d.name }}{% endfor %}</p>",
    }
    answer = client.post(
        "/api/x-tidings/message-sends",
        json={"data": {"type": "message-send", "attributes": attributes}},
        headers=account.headers(),
    )
    assert answer.status_code == 202, answer.text
    outbox = settings.model_copy(update={"outbox_dir": str(tmp_path / "outbox")})
    deliver_due(db, outbox)
    (path,) = (tmp_path / "outbox").glob(f"*/{answer.json()['data']['id']}.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Half off boots"
    assert "<p>Half off boots</p>" in message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert len(feeds.seen) == asked
