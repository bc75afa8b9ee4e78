"""The campaign message resolver delivery calls when it claims a campaign's ledger row."""

from __future__ import annotations

from typing import Any

from tests.campaigns.conftest import Shop
from tidings.campaigns.resolver import resolve
from tidings.db.session import Database
from tidings.delivery import sources
from tidings.delivery.messages import EmailDefinition, PushDefinition, SmsDefinition
from tidings.delivery.tables import SourceKind


def _campaign(shop: Shop, definition: dict[str, Any], **attributes: Any) -> tuple[str, str]:
    response = shop.create(
        {"name": "Autumn", "audiences": {"included": [shop.make_list()]}, **attributes}, definition
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    return data["id"], data["relationships"]["campaign-messages"]["data"][0]["id"]


def test_email_definition(shop: Shop, db: Database) -> None:
    definition = {
        "channel": "email",
        "content": {
            "subject": "Leaves",
            "preview_text": "Fall",
            "from_email": "a@shop.example",
            "from_label": "A",
        },
    }
    tracking = {"is_tracking_opens": False, "add_tracking_params": True}
    campaign_id, message_id = _campaign(
        shop, definition, send_options={"use_smart_sending": False}, tracking_options=tracking
    )
    template_id = shop.make_template("<p>{{ first_name }}</p>")
    relationships = {"template": {"data": {"type": "template", "id": template_id}}}
    body = {"data": {"type": "campaign-message", "id": message_id, "relationships": relationships}}
    assert shop.request("POST", "/api/campaign-message-assign-template", json=body).status_code == 200
    with db.read() as session:
        resolved = resolve(session, shop.keys.id, message_id)
        assert sources.resolve(session, shop.keys.id, SourceKind.CAMPAIGN_MESSAGE, message_id) == resolved
    assert isinstance(resolved, EmailDefinition)
    assert resolved.html == "<p>{{ first_name }}</p>" and resolved.template_id is None
    assert (resolved.subject, resolved.preview_text) == ("Leaves", "Fall")
    assert (resolved.from_email, resolved.from_label) == ("a@shop.example", "A")
    assert resolved.transactional is False and resolved.smart_sending is False
    assert resolved.track_opens is False and resolved.track_clicks is True
    assert resolved.add_tracking_params is True
    assert resolved.context == {
        "$message": message_id,
        "Campaign Name": "Autumn",
        "Subject": "Leaves",
        "$variation": message_id,
    }
    assert resolved.utm_values["campaign_id"] == campaign_id
    assert resolved.utm_values["campaign_name"] == "Autumn"
    assert resolved.utm_values["email_subject"] == "Leaves"
    assert resolved.utm_values["message_type"] == "email"


def test_sms_and_push_definitions(shop: Shop, db: Database) -> None:
    _sms_campaign, sms_id = _campaign(shop, {"channel": "sms", "content": {"body": "Hi {{ first_name }}"}})
    push = {
        "channel": "mobile_push",
        "content": {"title": "Sale", "body": "Now on"},
        "kv_pairs": {"screen": "sale", "n": 2},
        "options": {
            "play_sound": True,
            "badge": {"display": True, "badge_options": {"badge_config": "set_count", "value": "3"}},
        },
    }
    _push_campaign, push_id = _campaign(shop, push)
    with db.read() as session:
        sms = resolve(session, shop.keys.id, sms_id)
        pushed = resolve(session, shop.keys.id, push_id)
    assert isinstance(sms, SmsDefinition)
    assert sms.body == "Hi {{ first_name }}" and sms.smart_sending is True and sms.transactional is False
    assert sms.context["$message"] == sms_id and sms.context["Campaign Name"] == "Autumn"
    assert isinstance(pushed, PushDefinition)
    assert (pushed.title, pushed.body, pushed.badge, pushed.sound) == ("Sale", "Now on", 3, "default")
    assert pushed.data == {"screen": "sale", "n": "2"}


def test_unknown_or_other_accounts_message_resolves_to_none(
    shop: Shop, other_shop: Shop, db: Database
) -> None:
    _campaign_id, message_id = _campaign(shop, {"channel": "email", "content": {"subject": "x"}})
    with db.read() as session:
        assert resolve(session, other_shop.keys.id, message_id) is None
        assert resolve(session, shop.keys.id, "01ARZ3NDEKTSV4RRFFQ69G5FAV") is None
    assert shop.request("DELETE", f"/api/campaigns/{_campaign_id}").status_code == 204
    with db.read() as session:
        assert resolve(session, shop.keys.id, message_id) is None
