"""Rendering a message for one recipient: context, catalog skips, email-ready output, links."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.conftest import AccountKeys
from tidings.accounts.schemas import ContactInformation, StreetAddress
from tidings.db.session import Database
from tidings.templates import links as links_module
from tidings.templates import service
from tidings.templates.context import CatalogItemView, EventView
from tidings.templates.engine import RenderError
from tidings.templates.limits import RenderLimits
from tidings.templates.links import LinkSigner, instance_secret
from tidings.templates.messages import (
    AccountView,
    MessageContent,
    Recipient,
    RenderedMessage,
    SkippedMessage,
    render_message,
    render_template_message,
)
from tidings.templates.schemas import TemplateCreateAttributes
from tidings.templates.tables import InstanceSetting

SIGNER = LinkSigner("test-secret", "https://mail.example.com")
TINY = RenderLimits(seconds=0.05)
ACCOUNT = AccountView(
    contact_information=ContactInformation(
        organization_name="Hat & Co",
        website_url="https://hats.example",
        default_sender_email="hi@hats.example",
        street_address=StreetAddress(
            address1="1 Main St", city="Boston", region="MA", zip="02110", country="US"
        ),
    ),
    timezone="America/New_York",
    currency="USD",
)
PROFILE = {
    "id": "01PROFILEID",
    "email": "ada@example.com",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "location": {"city": "London"},
    "properties": {"Loyalty Points": 160, "plan": "gold"},
}
EVENT = EventView(
    properties={
        "Items": [{"name": "hat", "price": 20}],
        "$value": 20.0,
        "Order Total": 20,
        "ProductID": "HAT",
    },
    metric_name="Placed Order",
    value=20.0,
)


def message(html: str, **kwargs) -> RenderedMessage | SkippedMessage:  # type: ignore[no-untyped-def]
    content = MessageContent(html=html, text=kwargs.pop("text", None), subject=kwargs.pop("subject", None))
    recipient = Recipient("AbC123", PROFILE, kwargs.pop("event", EVENT), message_id="send-1")
    return render_message(content, recipient, ACCOUNT, signer=SIGNER, **kwargs)


def rendered(html: str, **kwargs) -> RenderedMessage:  # type: ignore[no-untyped-def]
    result = message(html, **kwargs)
    assert isinstance(result, RenderedMessage), result
    return result


def test_person_and_profile_shortcuts() -> None:
    html = rendered(
        "{{ first_name }} {{ person.last_name }} {{ email }} {{ person|lookup:'Loyalty Points' }} "
        "{{ person.plan }} {{ person.city }} {{ person.full_name }}",
        marketing=False,
    ).html
    assert html == "Ada Lovelace ada@example.com 160 gold London Ada Lovelace"


def test_event_and_organization() -> None:
    html = rendered(
        "{% for item in event.Items %}{{ item.name }}{% endfor %} {{ event|lookup:'Order Total' }} "
        "{{ event|lookup:'$value' }} {{ event.metric }}|{{ organization.name }}|{{ organization.url }}|"
        "{{ organization.full_address }}",
        marketing=False,
    ).html
    assert html == (
        "hat 20 20.0 Placed Order|Hat &amp; Co|https://hats.example|1 Main St, Boston MA 02110, US"
    )


def test_no_event_renders_event_variables_empty() -> None:
    assert rendered("[{{ event.Items }}]", event=None, marketing=False).html == "[]"


def test_today_is_in_the_accounts_timezone() -> None:
    now = dt.datetime(2024, 1, 1, 3, 0, tzinfo=dt.UTC)  # still Dec 31 in New York
    content = MessageContent(html="{{ today|date:'Y-m-d' }}")
    result = render_message(
        content, Recipient("AbC123", PROFILE), ACCOUNT, signer=SIGNER, marketing=False, now=now
    )
    assert isinstance(result, RenderedMessage)
    assert result.html == "2023-12-31"


def test_subject_and_text_are_rendered_without_html_escaping() -> None:
    result = rendered("<p>x</p>", text="Hi {{ organization.name }}", subject="{{ first_name }} & friends")
    assert result.subject == "Ada & friends"
    assert result.text.startswith("Hi Hat & Co")


def test_catalog_cancel_skips_the_whole_message() -> None:
    items = {
        "HAT": CatalogItemView(id="$custom:::$default:::HAT", external_id="HAT", title="Hat", published=False)
    }
    source = (
        '<p>Hi</p>{% catalog event.ProductID unpublished="cancel" %}{{ catalog_item.title }}{% endcatalog %}'
    )
    assert message(source, catalog=items.get) == SkippedMessage("Catalog Item Unavailable")
    assert message(source, catalog={}.get) == SkippedMessage("Catalog Item Unavailable")
    items["HAT"] = CatalogItemView(id="$custom:::$default:::HAT", external_id="HAT", title="Hat")
    assert "<p>Hi</p>Hat" in rendered(source, catalog=items.get, marketing=False).html


def test_catalog_cancel_in_the_text_part_also_skips() -> None:
    text = '{% catalog "GONE" unpublished="cancel" %}x{% endcatalog %}'
    assert isinstance(message("<p>ok</p>", text=text, catalog={}.get), SkippedMessage)


LOOPS = '{% with l="x"|ljust:10000 %}{% for a in l %}{% for b in l %}{% endfor %}{% endfor %}{% endwith %}'


def test_a_message_over_its_render_budget_is_skipped_with_the_reason() -> None:
    s = "a" * 180  # issue 16's template: ~10^9 characters asked for
    growing = (
        f'{{% with s="{s}" %}}{{{{ s|make_list|join:s|make_list|join:s|make_list|join:s }}}}{{% endwith %}}'
    )
    result = message(growing)
    assert isinstance(result, SkippedMessage)
    assert result.reason == "template error: output limit"
    assert result.detail is not None and "|join" in result.detail and "5,242,880" in result.detail
    assert message("<p>ok</p>", subject=LOOPS, limits=TINY) == (
        SkippedMessage(
            "template error: time limit", "The template took too long to render (time limit: 0.05 s)."
        )
    )


def test_a_messages_parts_share_one_budget() -> None:
    part = "{% for x in 'abcdefghij' %}" + "x" * 1_000 + "{% endfor %}"  # 10,000 characters
    limits = RenderLimits(max_output=12_000)  # work limit: 48,000 characters in all
    assert isinstance(message(part, limits=limits), RenderedMessage)
    skipped = message(part, text=part, subject=part, limits=limits)  # each part fits; together they do not
    assert skipped == SkippedMessage("template error: work limit", skipped.detail)  # type: ignore[union-attr]


def test_other_render_errors_still_propagate() -> None:
    with pytest.raises(RenderError, match="ValueError") as info:
        message('{{ "a b"|wordwrap:0 }}')
    assert info.value.limit is None


def test_css_is_inlined_and_media_queries_kept() -> None:
    html = rendered(
        "<html><head><style>p{color:red} @media (max-width:600px){p{color:blue}}</style>"
        '<link rel="stylesheet" href="http://127.0.0.1:9/remote.css"></head>'
        "<body><p>Hi</p>{% unsubscribe %}</body></html>"
    ).html
    assert '<p style="color: red;">Hi</p>' in html
    assert "@media (max-width:600px)" in html
    assert "remote.css" not in html


def test_text_part_is_made_from_html_when_empty() -> None:
    result = rendered(
        '<h1>Hello {{ first_name }}</h1><p>See <a href="https://hats.example/new">new hats</a></p>'
    )
    assert result.text.startswith("Hello Ada")
    assert "[new hats](https://hats.example/new)" in result.text


def test_marketing_email_without_unsubscribe_gets_one() -> None:
    result = rendered("<html><body><p>Sale!</p></body></html>", text="Sale!")
    link = result.html.split('href="', 1)[1].split('"', 1)[0]
    assert result.html.index("Unsubscribe") < result.html.index("</body>")
    assert link.startswith("https://mail.example.com/p/unsubscribe?t=")
    token = parse_qs(urlsplit(link).query)["t"][0]
    claims = SIGNER.verify(token, "unsubscribe")
    assert claims is not None and claims.profile_id == "01PROFILEID" and claims.message_id == "send-1"
    assert "Unsubscribe: https://mail.example.com/p/unsubscribe?t=" in result.text


def test_existing_unsubscribe_link_is_not_duplicated() -> None:
    result = rendered("<body>{% unsubscribe 'Stop' %}</body>")
    assert result.html.count("/p/unsubscribe") == 1


def test_transactional_email_gets_no_unsubscribe_link() -> None:
    assert "unsubscribe" not in rendered("<body>Receipt</body>", text="Receipt", marketing=False).html.lower()


# ---------------------------------------------------------------------------- with the database


def test_instance_secret_is_made_once_and_shared(db: Database) -> None:
    with db.read() as session:
        first = instance_secret(session)
        stored = session.execute(
            select(InstanceSetting.value).where(InstanceSetting.name == "secret_key")
        ).scalar()
    assert first == stored and len(first) >= 32
    links_module._cache.clear()  # a new process
    with db.read() as session:
        assert instance_secret(session) == first
        assert instance_secret(session, "configured") == "configured"


def test_links_stay_valid_across_processes(db: Database) -> None:
    with db.read() as session:
        url = LinkSigner(instance_secret(session)).url("unsubscribe", "AbC123", "p1", None)
    links_module._cache.clear()
    with db.read() as session:
        token = parse_qs(urlsplit(url).query)["t"][0]
        assert LinkSigner(instance_secret(session)).verify(token, "unsubscribe") is not None
    assert url.startswith("http://127.0.0.1:8080/p/unsubscribe?t=")


def test_configured_secret_key_signs_the_links(db: Database, account: AccountKeys) -> None:
    with db.write() as session:
        template = service.create_template(
            session,
            account.id,
            TemplateCreateAttributes(
                name="t", editor_type="CODE", html="<body>{% unsubscribe_link %}</body>"
            ),
        )
        result = render_template_message(
            session,
            template.id,
            Recipient(account.id, {"id": "p1", "email": "a@b.co"}),
            secret_key="configured-secret",
            public_url="https://t.example",
        )
    assert isinstance(result, RenderedMessage)
    token = parse_qs(urlsplit(result.html.split("<body>")[1].split("</body>")[0]).query)["t"][0]
    assert LinkSigner("configured-secret").verify(token, "unsubscribe") is not None


def test_stored_template_renders_for_a_recipient(db: Database, account: AccountKeys) -> None:
    with db.write() as session:
        template = service.create_template(
            session,
            account.id,
            TemplateCreateAttributes(
                name="t", editor_type="CODE", html="<p>{{ first_name }} at {{ organization.name }}</p>"
            ),
        )
        result = render_template_message(
            session,
            template.id,
            Recipient(account.id, {"id": "p1", "first_name": "Ada"}),
            secret_key=None,
            public_url=None,
            subject="Hi {{ first_name }}",
            marketing=False,
        )
    assert isinstance(result, RenderedMessage)
    assert result.html == "<p>Ada at Shop A</p>"
    assert result.subject == "Hi Ada"
    assert result.text == "Ada at Shop A"


@pytest.mark.parametrize("value", ["", "   "])
def test_blank_text_counts_as_missing(value: str) -> None:
    assert rendered("<p>Hello</p>", text=value, marketing=False).text == "Hello"


def test_recipient_from_stored_profile_and_event(db: Database, account: AccountKeys, sdk) -> None:
    from tests.events.factories import make_events
    from tidings.templates.recipients import recipient

    created = sdk.Profiles.create_profile(
        {
            "data": {
                "type": "profile",
                "attributes": {
                    "email": "grace@example.com",
                    "first_name": "Grace",
                    "properties": {"Loyalty Points": 7},
                },
            }
        }
    )
    profile_id = created.data.id
    [event_id] = make_events(
        db,
        account.id,
        [
            {
                "profile_id": profile_id,
                "metric": "Placed Order",
                "value": 42.5,
                "properties": {"Items": ["hat"]},
            }
        ],
    )
    source = (
        "{{ first_name }}/{{ person|lookup:'Loyalty Points' }}/{{ event.metric }}/"
        "{{ event|lookup:'$value' }}/{{ event.Items|join:',' }}/{{ organization.name }}"
    )
    with db.write() as session:
        template = service.create_template(
            session, account.id, TemplateCreateAttributes(name="t", editor_type="CODE", html=source)
        )
        who = recipient(session, account.id, profile_id, event_id=event_id, message_id="send-9")
        result = render_template_message(
            session, template.id, who, secret_key=None, public_url=None, marketing=False
        )
    assert isinstance(result, RenderedMessage)
    assert result.html == "Grace/7/Placed Order/42.5/hat/Shop A"
