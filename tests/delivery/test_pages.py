"""The recipient pages through HTTP: unsubscribe, preferences, web view, and what they refuse."""

from __future__ import annotations

import email
import email.policy
import uuid
from pathlib import Path

import httpx
import pytest
from klaviyo_api import KlaviyoAPI

from tests.conftest import AccountKeys, LiveServer
from tests.delivery.pagekit import email_marketing, events, is_member, link, make_profile, sent_email
from tidings.db.session import Database
from tidings.delivery import service
from tidings.delivery.worker import deliver_due
from tidings.jobs.worker import drain

UNSUBSCRIBED = "Unsubscribed from Email Marketing"
PREFERENCES = "Updated Email Preferences"


def _email() -> str:
    return f"reader-{uuid.uuid4().hex[:10]}@example.test"


def _no_cookies(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=10)


def _list(sdk, name: str, opt_in: str = "single_opt_in") -> str:  # type: ignore[no-untyped-def]
    body = {"data": {"type": "list", "attributes": {"name": name, "opt_in_process": opt_in}}}
    return str(sdk.Lists.create_list(body).data.id)


def test_get_shows_a_confirmation_and_never_unsubscribes(
    sdk, db: Database, account: AccountKeys, http
) -> None:  # type: ignore[no-untyped-def]
    pid = make_profile(sdk, _email())
    url = link(db, "unsubscribe", account.id, pid)
    for _ in range(3):  # a link scanner fetching the URL, with and without a body
        page = http.get(url)
        assert page.status_code == 200
        assert 'method="post"' in page.text and "Unsubscribe</button>" in page.text
        assert http.head(url).status_code == 200
    assert email_marketing(sdk, pid).consent == "NEVER_SUBSCRIBED"
    assert events(db, account.id, pid, UNSUBSCRIBED) == []
    # Accessible, script-free page.
    assert '<html lang="en">' in page.text and "<script" not in page.text
    assert 'name="viewport"' in page.text and "Shop A" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none' covers it
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"


def test_one_click_post_unsubscribes_without_cookies(sdk, db: Database, account: AccountKeys, server) -> None:  # type: ignore[no-untyped-def]
    pid = make_profile(sdk, _email())
    send_id = sent_email(db, account.id, pid, "<p>Hi</p>")
    url = link(db, "unsubscribe", account.id, pid, send_id)
    with _no_cookies(server) as client:
        for _ in range(2):  # idempotent: the second press changes nothing
            done = client.post(
                url,
                content=b"List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert done.status_code == 200 and "unsubscribed" in done.text
        assert not client.cookies
    marketing = email_marketing(sdk, pid)
    assert marketing.consent == "UNSUBSCRIBED"
    assert marketing.method == "PREFERENCE_PAGE" and marketing.method_detail == "one_click"
    assert [s.reason for s in marketing.suppression] == ["UNSUBSCRIBE"]
    [event] = events(db, account.id, pid, UNSUBSCRIBED)
    assert event["method_detail"] == "one_click"
    assert event["$message"] == "MSG1" and event["Campaign Name"] == "Winter"  # the message's attribution


def test_one_click_as_multipart_also_unsubscribes(sdk, db: Database, account: AccountKeys, server) -> None:  # type: ignore[no-untyped-def]
    pid = make_profile(sdk, _email())
    with _no_cookies(server) as client:
        done = client.post(
            link(db, "unsubscribe", account.id, pid), files={"List-Unsubscribe": (None, "One-Click")}
        )
    assert done.status_code == 200
    assert email_marketing(sdk, pid).method_detail == "one_click"


def test_the_page_button_unsubscribes(sdk, db: Database, account: AccountKeys, http) -> None:  # type: ignore[no-untyped-def]
    pid = make_profile(sdk, _email())
    url = link(db, "unsubscribe", account.id, pid)
    form = http.get(url).text
    assert f'action="{url.replace("&", "&amp;")}"' in form  # posts back to itself, with its token
    done = http.post(url, data={"confirm": "unsubscribe"})
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert email_marketing(sdk, pid).method_detail == "unsubscribe_page"
    again = http.get(url)
    assert "unsubscribed" in again.text and "<button" not in again.text


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_forged_or_altered_tokens_are_refused(
    sdk, db: Database, account: AccountKeys, http, method: str
) -> None:  # type: ignore[no-untyped-def]
    pid = make_profile(sdk, _email())
    url = link(db, "unsubscribe", account.id, pid)
    token = url.split("t=", 1)[1]
    altered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    other_kind = link(db, "preferences", account.id, pid).split("t=", 1)[1]
    for bad in (
        "/p/unsubscribe",
        "/p/unsubscribe?t=",
        f"/p/unsubscribe?t={altered}",
        f"/p/unsubscribe?t={other_kind}",  # a valid token of another page
        "/p/unsubscribe?t=%FF%FE",
        "/p/unsubscribe?t=" + "x" * 5000,
        f"/p/web-view?t={token}",
        f"/p/confirm?t={token}",
        f"/p/preferences?t={altered}",
    ):
        if method == "POST" and bad.startswith("/p/web-view"):
            continue  # a GET-only page
        page = http.request(method, bad, data={"List-Unsubscribe": "One-Click"} if method == "POST" else None)
        assert page.status_code == 400, bad
        assert "not valid" in page.text
    assert email_marketing(sdk, pid).consent == "NEVER_SUBSCRIBED"
    gone = link(db, "unsubscribe", account.id, "01NOSUCHPROFILE00000000000")
    assert http.post(gone, data={"List-Unsubscribe": "One-Click"}).status_code == 404


def test_preferences_round_trip(sdk, db: Database, account: AccountKeys, http) -> None:  # type: ignore[no-untyped-def]
    pid = make_profile(sdk, _email(), phone_number=f"+1617555{uuid.uuid4().int % 10000:04d}")
    news, offers = _list(sdk, "News"), _list(sdk, "Offers")
    for list_id in (news, offers):
        sdk.Lists.add_profiles_to_list(list_id, {"data": [{"type": "profile", "id": pid}]})
    sms = {"sms": {"marketing": {"consent": "SUBSCRIBED"}}}
    profile = sdk.Profiles.get_profile(pid).data.attributes
    body = {
        "data": {
            "type": "profile-subscription-bulk-create-job",
            "attributes": {
                "profiles": {
                    "data": [
                        {
                            "type": "profile",
                            "attributes": {"phone_number": profile.phone_number, "subscriptions": sms},
                        }
                    ]
                }
            },
        }
    }
    sdk.Profiles.bulk_subscribe_profiles(body)
    drain(db)
    url = link(db, "preferences", account.id, pid)
    page = http.get(url)
    assert page.status_code == 200
    assert page.text.count('type="checkbox"') == 4  # email, SMS, two lists
    assert 'for="email_marketing"' in page.text and "News" in page.text and "Offers" in page.text
    assert events(db, account.id, pid, PREFERENCES) == []

    # Stop marketing email and SMS, leave News; keep Offers.
    saved = http.post(url, data={"list": [offers]})
    assert saved.status_code == 200 and "saved" in saved.text
    assert email_marketing(sdk, pid).consent == "UNSUBSCRIBED"
    subs = sdk.Profiles.get_profile(pid, additional_fields_profile=["subscriptions"]).data.attributes
    assert subs.subscriptions.sms.marketing.consent == "UNSUBSCRIBED"
    assert not is_member(db, account.id, news, pid) and is_member(db, account.id, offers, pid)
    [event] = events(db, account.id, pid, PREFERENCES)
    assert event["lists_removed"] == [news] and event["email_marketing"] == "UNSUBSCRIBED"

    # The page shows the new state; News can be joined again, and email turned back on.
    page = http.get(url).text
    assert "News" in page and "You do not receive marketing text messages" in page
    http.post(url, data={"email_marketing": "on", "list": [news, offers]})
    assert email_marketing(sdk, pid).consent == "SUBSCRIBED"
    assert email_marketing(sdk, pid).method == "PREFERENCE_PAGE"
    assert is_member(db, account.id, news, pid)
    assert len(events(db, account.id, pid, PREFERENCES)) == 2
    # Saving without a change records nothing.
    http.post(url, data={"email_marketing": "on", "list": [news, offers]})
    assert len(events(db, account.id, pid, PREFERENCES)) == 2


def test_web_view_shows_the_sent_html_without_the_pixel(
    sdk, db: Database, account: AccountKeys, http
) -> None:  # type: ignore[no-untyped-def]
    pid = make_profile(sdk, _email())
    html = (
        '<html><body><h1>Winter sale</h1><a href="https://shop.example.test/t/c/abc">Shop</a>'
        '<img src="https://shop.example.test/logo.png" alt="logo">'
        '<img width="1" height="1" alt="" src="http://127.0.0.1:8080/t/o/TOKEN.gif">'
        "<script>alert(1)</script></body></html>"
    )
    send_id = sent_email(db, account.id, pid, html)
    page = http.get(link(db, "web-view", account.id, pid, send_id))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Winter sale</h1>" in page.text and "logo.png" in page.text
    assert "/t/o/" not in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
    # Another profile's token for the same row, and a row whose content was erased: not available.
    other = make_profile(sdk, _email())
    assert http.get(link(db, "web-view", account.id, other, send_id)).status_code == 404
    with db.write() as session:
        row = service.get(session, account.id, send_id)
        assert row is not None
        row.content = None
    gone = http.get(link(db, "web-view", account.id, pid, send_id))
    assert gone.status_code == 404 and "not available" in gone.text


def test_a_token_of_account_a_never_changes_account_b(
    sdk, db: Database, account: AccountKeys, other_account: AccountKeys, server, http
) -> None:  # type: ignore[no-untyped-def]
    other_sdk = KlaviyoAPI(api_key=other_account.private_key, test_host=server.url, max_retries=0)
    theirs = make_profile(other_sdk, _email())
    their_list = _list(other_sdk, "Theirs")
    other_sdk.Lists.add_profiles_to_list(their_list, {"data": [{"type": "profile", "id": theirs}]})
    their_send = sent_email(db, other_account.id, theirs, "<p>Private</p>")
    mine = make_profile(sdk, _email())
    # Links signed for account A naming B's profile, message or list find nothing.
    assert http.post(link(db, "unsubscribe", account.id, theirs), data={"confirm": "1"}).status_code == 404
    assert http.post(link(db, "preferences", account.id, theirs), data={}).status_code == 404
    assert http.get(link(db, "web-view", account.id, mine, their_send)).status_code == 404
    assert http.get(link(db, "web-view", account.id, theirs, their_send)).status_code == 404
    http.post(link(db, "preferences", account.id, mine), data={"list": [their_list], "email_marketing": "on"})
    http.post(link(db, "confirm", account.id, mine, list_id=their_list))
    assert email_marketing(other_sdk, theirs).consent == "NEVER_SUBSCRIBED"
    assert is_member(db, other_account.id, their_list, theirs)
    assert not is_member(db, other_account.id, their_list, mine)
    assert not is_member(db, account.id, their_list, mine)


def test_the_links_of_a_sent_marketing_email_work(
    sdk, client, db: Database, account: AccountKeys, http, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """End to end: the worker renders and sends a marketing email; its List-Unsubscribe URL takes a
    one-click POST, and its web-view link shows the HTML as sent."""
    outbox = settings.model_copy(update={"outbox_dir": str(tmp_path / "outbox")})
    address = _email()
    body = {
        "idempotency_key": f"pages-{uuid.uuid4().hex}",
        "profile": {"email": address},
        "transactional": False,
        "subject": "Winter sale",
        "html": '<html><body><h1>Winter sale</h1><a href="{% web_view_link %}">View online</a></body></html>',
    }
    answer = client.post(
        "/api/x-tidings/message-sends",
        json={"data": {"type": "message-send", "attributes": body}},
        headers=account.headers(),
    )
    assert answer.status_code == 202, answer.text
    deliver_due(db, outbox)
    (path,) = Path(outbox.outbox_dir).glob(f"*/{answer.json()['data']['id']}.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = str(message["List-Unsubscribe"]).split("<", 1)[1].split(">", 1)[0]
    html_part = message.get_body(("html",))  # type: ignore[attr-defined]
    web_view = html_part.get_content().split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")

    shown = http.get(web_view[web_view.index("/p/") :])
    assert shown.status_code == 200 and "<h1>Winter sale</h1>" in shown.text
    done = http.post(unsubscribe[unsubscribe.index("/p/") :], data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    [profile] = sdk.Profiles.get_profiles(filter=f'equals(email,"{address}")').data
    assert email_marketing(sdk, profile.id).consent == "UNSUBSCRIBED"
    [event] = events(db, account.id, profile.id, UNSUBSCRIBED)
    assert event["$message"] == f"api:{body['idempotency_key']}"


def test_links_follow_a_merge(sdk, db: Database, account: AccountKeys, http) -> None:  # type: ignore[no-untyped-def]
    """A message went to a profile later merged into another: its links still work, on the survivor."""
    source, destination = make_profile(sdk, _email()), make_profile(sdk, _email())
    send_id = sent_email(db, account.id, source, "<p>Before the merge</p>")
    sdk.Profiles.merge_profiles(
        {
            "data": {
                "type": "profile-merge",
                "id": destination,
                "relationships": {"profiles": {"data": [{"type": "profile", "id": source}]}},
            }
        }
    )
    drain(db)
    shown = http.get(link(db, "web-view", account.id, source, send_id))
    assert shown.status_code == 200 and "Before the merge" in shown.text
    done = http.post(
        link(db, "unsubscribe", account.id, source, send_id), data={"List-Unsubscribe": "One-Click"}
    )
    assert done.status_code == 200
    assert email_marketing(sdk, destination).consent == "UNSUBSCRIBED"
    [event] = events(db, account.id, destination, UNSUBSCRIBED)
    assert event["$message"] == "MSG1"
