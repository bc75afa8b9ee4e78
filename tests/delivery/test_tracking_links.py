"""Tracked links and the open pixel in an email's HTML, and their signed tokens."""

from __future__ import annotations

import html
import re
from hashlib import sha256
from urllib.parse import parse_qsl, urlsplit

from itsdangerous import Signer
from itsdangerous.encoding import base64_encode

from tidings.delivery.tracking import TrackingLinks, TrackingSigner, instrument, with_parameters
from tidings.delivery.tracking_events import apple_privacy_open, client_of
from tidings.delivery.tracking_settings import DEFAULTS, utm_parameters
from tidings.templates.links import LinkSigner

BASE = "https://mail.shop.test"
SIGNER = TrackingSigner("s3cret", BASE)
LINKS = TrackingLinks(SIGNER, "AbCdEf", "01JSEND0000000000000000000")


def hrefs(text: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', text, re.IGNORECASE)]


def destination(href: str) -> str:
    claims = SIGNER.read_click(href.removeprefix(f"{BASE}/t/c/"))
    assert claims is not None, href
    return claims.url


def test_every_web_link_becomes_a_signed_redirect_in_order() -> None:
    page = (
        '<html><body><a href="https://shop.test/a">A</a> <A class="x" HREF=\'http://shop.test/b?x=1&amp;y=2\'>B</A>'
        '<area href=https://shop.test/c alt="c"></body></html>'
    )
    out = instrument(page, links=LINKS, opens=False, clicks=True, utm=None)
    found = hrefs(out)
    assert all(h.startswith(f"{BASE}/t/c/") for h in found)
    assert [destination(h) for h in found] == [
        "https://shop.test/a",
        "http://shop.test/b?x=1&y=2",
        "https://shop.test/c",
    ]
    assert [SIGNER.read_click(h.removeprefix(f"{BASE}/t/c/")).link for h in found] == [0, 1, 2]  # type: ignore[union-attr]
    assert 'class="x"' in out and ">A</a>" in out


def test_own_pages_mailto_tel_anchors_and_marked_links_stay() -> None:
    own = LinkSigner("s3cret", BASE).url("unsubscribe", "AbCdEf", "P1", "M1")
    kept = [
        own,
        f"{BASE}/p/preferences?t=abc",
        f"{BASE}/p/web-view?t=abc",
        "mailto:help@shop.test",
        "tel:+15551234567",
        "#top",
        "/relative/path",
    ]
    page = "".join(f'<a href="{html.escape(url)}">x</a>' for url in kept)
    page += '<a data-no-track href="https://shop.test/private">mine</a>'
    out = instrument(page, links=LINKS, opens=False, clicks=True, utm={"utm_source": "Klaviyo"})
    assert hrefs(out) == [*kept, "https://shop.test/private"]


def test_utm_parameters_are_added_but_never_override() -> None:
    page = '<a href="https://shop.test/p?utm_source=newsletter&amp;q=1#reviews">x</a>'
    utm = {"utm_source": "Klaviyo", "utm_medium": "email", "utm_campaign": "Summer Sale"}
    out = instrument(page, links=LINKS, opens=False, clicks=True, utm=utm)
    url = destination(hrefs(out)[0])
    parts = urlsplit(url)
    assert parts.fragment == "reviews"
    assert parse_qsl(parts.query) == [
        ("utm_source", "newsletter"),
        ("q", "1"),
        ("utm_medium", "email"),
        ("utm_campaign", "Summer Sale"),
    ]
    # without click tracking, the parameters still reach the link itself
    plain = instrument(page, links=LINKS, opens=False, clicks=False, utm=utm)
    assert hrefs(plain) == [url]
    assert with_parameters("https://shop.test/", {"a": "b c"}) == "https://shop.test/?a=b+c"


def test_the_pixel_is_added_once_before_the_body_ends() -> None:
    page = "<html><body><p>Hi</p></BODY></html>"
    once = instrument(page, links=LINKS, opens=True, clicks=True, utm=None)
    twice = instrument(once, links=LINKS, opens=True, clicks=True, utm=None)
    assert twice == once
    assert once.count("/t/o/") == 1
    assert re.search(r'<img src="[^"]+/t/o/[^"]+\.gif" width="1" height="1" alt=""[^>]*/></BODY>', once)
    assert instrument("<p>no body</p>", links=LINKS, opens=True, clicks=False, utm=None).endswith("/>")
    assert "/t/o/" not in instrument(page, links=LINKS, opens=False, clicks=True, utm=None)


def test_forged_altered_and_crossed_tokens_are_refused() -> None:
    click = LINKS.click_url(0, "https://shop.test/").removeprefix(f"{BASE}/t/c/")
    opened = LINKS.open_url().removeprefix(f"{BASE}/t/o/").removesuffix(".gif")
    assert SIGNER.read_click(click) is not None and SIGNER.read_open(opened) is not None
    other = TrackingSigner("another secret", BASE)
    assert other.read_click(click) is None
    assert SIGNER.read_click(click[:-2] + ("AA" if not click.endswith("AA") else "BB")) is None
    payload, signature = click.rsplit(".", 1)
    assert SIGNER.read_click(payload.replace("c", "d", 1) + "." + signature) is None
    # an open token is no click token, and the reverse
    assert SIGNER.read_click(opened) is None and SIGNER.read_open(click) is None
    assert SIGNER.read_click("") is None and SIGNER.read_click("x" * 10_000) is None


def test_utm_parameters_from_settings() -> None:
    values = {"campaign_name": "Summer Sale", "message_type": "email", "message_name": "Welcome 1"}
    assert utm_parameters(DEFAULTS, kind="campaign", values=values) == {}  # not switched on
    on = {**DEFAULTS, "auto_add_parameters": True}
    assert utm_parameters(on, kind="campaign", values=values) == {
        "utm_source": "Klaviyo",
        "utm_medium": "email",
        "utm_campaign": "Summer Sale",
    }
    custom = {
        **on,
        "custom_parameters": [{"name": "src", "campaign": None, "flow": {"type": "static", "value": "f"}}],
    }
    assert utm_parameters(custom, kind="flow", values=values)["src"] == "f"
    assert utm_parameters(custom, kind="flow", values=values)["utm_campaign"] == "Welcome 1"
    assert utm_parameters(on, kind="campaign", values=values, enabled=False) == {}


def test_clients_machines_and_bots() -> None:
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
    assert client_of(iphone).type == "Mobile" and client_of(iphone).os_family == "iOS"
    gmail = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
    assert client_of(gmail).proxy and client_of(gmail).name == "Gmail"
    assert client_of("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0 Safari/537.36").bot
    assert client_of("python-requests/2.31").bot
    desktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
    assert not client_of(desktop).bot and client_of(desktop).type == "Desktop"
    assert apple_privacy_open("Mozilla/5.0", None)
    assert apple_privacy_open(iphone, "17.58.1.2")
    assert not apple_privacy_open(iphone, "203.0.113.9")


def test_tokens_are_the_ones_itsdangerous_writes() -> None:
    """Tokens are signed with the derived key kept, not through itsdangerous each time: the
    bytes must stay what `Signer.sign` writes, so links already sent keep working."""
    clicks = Signer("s3cret", salt="tidings.track.click", key_derivation="hmac", digest_method=sha256)
    opens = Signer("s3cret", salt="tidings.track.open", key_derivation="hmac", digest_method=sha256)
    click = base64_encode('["AbCdEf","01JSEND",3,"https://shop.test/é?a=1"]'.encode())
    opened = base64_encode(b'["AbCdEf","01JSEND"]')
    assert SIGNER.click_url("AbCdEf", "01JSEND", 3, "https://shop.test/é?a=1") == (
        f"{BASE}/t/c/{clicks.sign(click).decode()}"
    )
    assert SIGNER.open_url("AbCdEf", "01JSEND") == f"{BASE}/t/o/{opens.sign(opened).decode()}.gif"
