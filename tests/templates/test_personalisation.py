"""Personalisation the seeds name: `person.*`, the triggering event's properties and line items,
and a block of recommended products, in a preview and in a sent email."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.catalogs.test_recommendation_snapshots import run_snapshot_job, snapshot_jobs, writes_to_snapshot
from tests.catalogs.test_recommendations import Purchase, seed
from tests.conftest import AccountKeys
from tests.templates.test_messages import ACCOUNT, PROFILE, SIGNER
from tidings.catalogs.recommendations import snapshot_window
from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.session import Database
from tidings.delivery.messages import EmailDefinition
from tidings.delivery.tables import MessageSend
from tidings.delivery.transactional import send_message
from tidings.delivery.worker import deliver_due
from tidings.templates.context import CatalogItemView, EventView
from tidings.templates.errors import TemplateError
from tidings.templates.messages import MessageContent, Recipient, RenderedMessage, render_message

CART = {
    "$value": 59.0,
    "Item Count": 2,
    "ItemNames": ["Boots", "Socks"],
    "Items": [
        {"ProductID": "p1", "ProductName": "Boots", "Quantity": 1, "ItemPrice": 49.0},
        {"ProductID": "p9", "ProductName": "Socks & more", "Quantity": 2, "ItemPrice": 5.0},
    ],
    "$extra": {
        "line_items": [{"product_id": "p1", "product_name": "Boots", "quantity": 1}],
        "checkout_url": "https://shop.example.com/cart",
    },
}

SEEDS = (
    "Hi {{ person.first_name }} ({{ first_name }}). "
    "{{ event.extra.line_items.0.product_name }}; "
    "{% for line in event.extra.line_items %}[{{ line.product_name }} x{{ line.quantity }}]{% endfor %} "
    "{% for item in event.Items %}{{ forloop.counter }}.{{ item.ProductName }}{% if not forloop.last %}, "
    "{% endif %}{% endfor %} | {{ event|lookup:'Item Count' }} items, "
    "{{ event.ItemNames|join:' + ' }}, {{ event.extra.checkout_url }} {{ event.Missing }}."
)


def _render(html: str, event: Any = CART, **kwargs: Any) -> RenderedMessage:
    recipient = Recipient("AbC123", PROFILE, event, message_id="send-1")
    result = render_message(
        MessageContent(html=html), recipient, ACCOUNT, signer=SIGNER, marketing=False, **kwargs
    )
    assert isinstance(result, RenderedMessage), result
    return result


def test_person_event_properties_and_line_item_loops() -> None:
    assert _render(SEEDS).html == (
        "Hi Ada (Ada). Boots; [Boots x1] 1.Boots, 2.Socks &amp; more | 2 items, "
        "Boots + Socks, https://shop.example.com/cart ."
    )
    # The same through an EventView (what the row's stored event gives), with its metadata.
    view = EventView(properties=CART, metric_name="Added to Cart", value=59.0, id="01EVENT")
    html = _render("{{ event.metric }} {{ event.value }} {{ event|lookup:'$value' }}", event=view).html
    assert html == "Added to Cart 59.0 59.0"


def test_recommended_products_block_asks_once_with_the_person_and_the_event() -> None:
    calls: list[tuple[Any, ...]] = []

    def recommend(profile_id: str | None, count: int, event: Any) -> list[CatalogItemView]:
        calls.append((profile_id, count, sorted(event) if event is not None else None))
        return [
            CatalogItemView(id=f"$custom:::$default:::r{n}", external_id=f"r{n}", title=f"Rec <{n}>", price=n)
            for n in range(count)
        ]

    html = (
        "{% recommended_products 3 as products %}"
        "{% for product in products %}<a href='{{ product.url }}'>{{ product.title }}</a>"
        "{% currency_format product.price %}{% empty %}none{% endfor %}"
    )
    result = _render(html, recommend=recommend)
    assert result.html.count("<a href=") == 3
    assert "Rec &lt;2&gt;" in result.html and "$2.00" in result.html
    # Once per part (the text part is derived from the html); tidings.templates.context.recommender
    # remembers the answer, so the database is asked once per message.
    assert calls == [("01PROFILEID", 3, sorted([*CART, "extra"]))] * 2
    # The default count is 4; no recommender (or nothing recommended) renders the empty branch.
    assert _render("{% recommended_products as p %}{{ p|length }}", recommend=recommend).html == "4"
    assert _render(html).html == "none"


@pytest.mark.parametrize(
    "source",
    [
        "{% recommended_products %}",
        "{% recommended_products 4 %}",
        "{% recommended_products 4 into p %}",
        "{% recommended_products 4 as p extra %}",
    ],
)
def test_recommended_products_syntax_errors(source: str) -> None:
    with pytest.raises(TemplateError):
        _render(source)


def _template(client: TestClient, account: AccountKeys, html: str) -> str:
    body = {"data": {"type": "template", "attributes": {"name": "Recs", "editor_type": "CODE", "html": html}}}
    answer = client.post("/api/templates", json=body, headers=account.headers())
    assert answer.status_code == 201, answer.text
    return str(answer.json()["data"]["id"])


BLOCK = (
    "<p>Hi {{ person.first_name|default:'there' }}</p>"
    "{% recommended_products 3 as products %}<ul>{% for p in products %}"
    "<li>{{ p.title }} {{ p.url }} {{ p.tags|join:',' }}</li>{% endfor %}</ul>"
)
PURCHASES = [
    Purchase("A", ("p1",), 2, True),
    Purchase("B", ("p1", "p2", "p3"), 3, True),
    Purchase("C", ("p1", "p2"), 3, False),
    Purchase("D", ("p5",), 1, True),
]
ITEMS = {"p1": True, "p2": True, "p3": True, "p4": True, "p5": True}
CATEGORIES = {"boots": {"p1", "p4"}}


def test_preview_shows_the_block(sdk: Any, client: TestClient, db: Database, account: AccountKeys) -> None:
    seed(db, account.id, purchases=PURCHASES, items=ITEMS, categories=CATEGORIES, now=utcnow())
    template_id = _template(client, account, BLOCK)

    def preview(context: dict[str, Any]) -> str:
        body = {"data": {"type": "template", "id": template_id, "attributes": {"context": context}}}
        return str(sdk.Templates.render_template(body).data.attributes.html)

    # Before the account's first snapshot: A's categories only, and the job is asked for.
    early = preview({"person": {"id": "A", "first_name": "Ada"}})
    assert "<li>Item p4 https://shop.example.com/p4 boots</li>" in early and "Item p2" not in early
    with db.write() as session:
        assert snapshot_jobs(session, account.id) == 1
        run_snapshot_job(session, account.id)
    html = preview({"person": {"id": "A", "first_name": "Ada"}})
    assert "<p>Hi Ada</p>" in html
    assert "<li>Item p2 https://shop.example.com/p2 </li><li>Item p3" in html
    assert "<li>Item p4 https://shop.example.com/p4 boots</li>" in html
    assert "Item p1 " not in html  # bought already
    # The trigger event's items are left out; no person: the popular items.
    assert "Item p2" not in preview({"person": {"id": "A"}, "event": {"Items": [{"ProductID": "p2"}]}})
    anonymous = preview({})
    assert "<p>Hi there</p>" in anonymous and "<li>Item p1 " in anonymous


@pytest.fixture
def outbox_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"outbox_dir": str(tmp_path / "outbox")})


def _profile(client: TestClient, account: AccountKeys, email_address: str) -> str:
    body = {"data": {"type": "profile", "attributes": {"email": email_address, "first_name": "Grace"}}}
    answer = client.post("/api/profiles", json=body, headers=account.headers())
    assert answer.status_code == 201, answer.text
    return str(answer.json()["data"]["id"])


def _send(db: Database, account: AccountKeys, profile_id: str, key: str, **definition: Any) -> str:
    with db.write() as session:
        sent = send_message(
            session,
            account.id,
            profile_id=profile_id,
            definition=EmailDefinition(transactional=True, **definition),
            key=key,
        )
        return sent.planned.send.id


def test_a_sent_email_has_the_handed_event_and_the_recommendations(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    profile_id = _profile(client, account, "grace@example.com")
    purchases = [Purchase(profile_id, ("p1",), 2, True), *PURCHASES[1:]]
    seed(db, account.id, purchases=purchases, items=ITEMS, categories=CATEGORIES, now=utcnow())
    html = (
        "<html><body><p>{{ person.first_name }}: {% for i in event.Items %}{{ i.ProductName }};{% endfor %}</p>"
        + BLOCK
        + "</body></html>"
    )
    cart = {"Items": [{"ProductID": "p2", "ProductName": "Laces"}]}

    def sent_body(key: str) -> str:
        send_id = _send(db, account, profile_id, key, html=html, subject="Your cart", event_properties=cart)
        deliver_due(db, outbox_settings)
        with db.read() as session:
            row = session.get(MessageSend, (account.id, send_id))
            assert row is not None and row.status == "sent", (row.status, row.reason, row.detail)
        (path,) = Path(outbox_settings.outbox_dir).glob(f"*/{send_id}.eml")
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        return str(message.get_body(("html",)).get_content())  # type: ignore[union-attr]

    # No snapshot yet: the message is sent without building one (only the category tier), and
    # the snapshot job is queued.
    with db.read() as session, writes_to_snapshot(session) as writes:
        body = sent_body("cart-0")
    assert writes == []
    assert "Item p4" in body and "Item p3" not in body and "Item p5" not in body
    with db.write() as session:
        assert snapshot_window(session, account.id) is None
        assert snapshot_jobs(session, account.id) == 1
        run_snapshot_job(session, account.id)
    body = sent_body("cart-1")
    assert "<p>Grace: Laces;</p>" in body
    # p2 is in the cart (the trigger), p1 was bought: p3 (co-purchase), p4 (category), p5 (popular).
    assert body.index("Item p3") < body.index("Item p4") < body.index("Item p5")
    assert "Item p2" not in body and "Item p1 " not in body


def test_a_template_failing_for_one_recipient_skips_that_message_with_the_reason(
    client: TestClient, db: Database, account: AccountKeys, outbox_settings: Settings
) -> None:
    seed(db, account.id, purchases=[], items={"gone": False}, categories={}, now=utcnow())
    html = '<p>{% catalog event.ProductID unpublished="cancel" %}{{ catalog_item.title }}{% endcatalog %}</p>'
    first = _profile(client, account, "one@example.com")
    second = _profile(client, account, "two@example.com")
    skipped = _send(
        db, account, first, "bis-1", html=html, subject="s", event_properties={"ProductID": "gone"}
    )
    sent = _send(
        db, account, second, "bis-2", html="<p>{{ event.ProductID }}</p>", subject="s", event_properties={}
    )
    deliver_due(db, outbox_settings)
    with db.read() as session:
        row = session.get(MessageSend, (account.id, skipped))
        assert row is not None and (row.status, row.reason) == ("skipped", "Catalog Item Unavailable")
        other = session.get(MessageSend, (account.id, sent))
        assert other is not None and other.status == "sent"


def test_event_properties_default_to_none() -> None:
    definition = EmailDefinition(html="x")
    assert definition.event_properties is None
    assert EmailDefinition.model_validate({"html": "x", "event_properties": {"a": 1}}).event_properties == {
        "a": 1
    }
