"""The tracking settings operations through the official SDK."""

from __future__ import annotations

import json

import pytest
from openapi_client.exceptions import ApiException, BadRequestException, NotFoundException

from tests.conftest import AccountKeys


def patch_body(account_id: str, **attributes: object) -> dict:
    return {"data": {"type": "tracking-setting", "id": account_id, "attributes": attributes}}


def plain(value: object) -> object:
    """The SDK gives a parameter's oneOf value as a dict or a model, depending on the model."""
    return value if isinstance(value, dict) or value is None else value.to_dict()  # type: ignore[attr-defined]


def errors_of(info: pytest.ExceptionInfo) -> list[dict]:
    return json.loads(info.value.body)["errors"]


def test_defaults_are_klaviyos(sdk, account: AccountKeys) -> None:
    listed = sdk.Tracking_Settings.get_tracking_settings()
    assert [item.id for item in listed.data] == [account.id]
    one = sdk.Tracking_Settings.get_tracking_setting(account.id)
    attributes = one.data.attributes
    assert one.data.type == "tracking-setting"
    assert attributes.auto_add_parameters is False
    assert plain(attributes.utm_source.campaign) == {"type": "static", "value": "Klaviyo"}
    assert plain(attributes.utm_medium.flow) == {"type": "dynamic", "value": "message_type"}
    assert plain(attributes.utm_campaign.campaign) == {"type": "dynamic", "value": "campaign_name"}
    assert attributes.utm_id is None and attributes.utm_term is None
    assert attributes.custom_parameters == []
    assert one.data.links.var_self.endswith(f"/api/tracking-settings/{account.id}")


def test_update_changes_only_what_is_given(sdk, account: AccountKeys) -> None:
    body = patch_body(
        account.id,
        auto_add_parameters=True,
        utm_medium={"campaign": {"type": "static", "value": "newsletter"}},
        utm_term={"campaign": {"type": "dynamic", "value": "link_alt_text"}, "flow": None},
        custom_parameters=[{"name": "src", "campaign": {"type": "static", "value": "kl"}}],
    )
    updated = sdk.Tracking_Settings.update_tracking_setting(account.id, body).data.attributes
    assert updated.auto_add_parameters is True
    assert plain(updated.utm_medium.campaign) == {"type": "static", "value": "newsletter"}
    assert plain(updated.utm_medium.flow) == {"type": "dynamic", "value": "message_type"}  # kept
    assert plain(updated.utm_term.campaign) == {"type": "dynamic", "value": "link_alt_text"}
    assert updated.custom_parameters[0].name == "src"
    again = sdk.Tracking_Settings.get_tracking_setting(account.id).data.attributes
    assert again.to_dict() == updated.to_dict()


def test_null_turns_an_optional_parameter_off(http, account: AccountKeys) -> None:
    # The SDK leaves out attributes set to None, so `null` is sent as raw JSON:API.
    url = f"/api/tracking-settings/{account.id}"
    body = patch_body(
        account.id, utm_campaign=None, utm_id={"campaign": {"type": "dynamic", "value": "campaign_id"}}
    )
    response = http.patch(url, json=body, headers=account.headers())
    assert response.status_code == 200, response.text
    attributes = response.json()["data"]["attributes"]
    assert attributes["utm_campaign"] is None
    assert attributes["utm_id"] == {"campaign": {"type": "dynamic", "value": "campaign_id"}, "flow": None}
    refused = http.patch(url, json=patch_body(account.id, utm_medium=None), headers=account.headers())
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["source"]["pointer"] == "/data/attributes/utm_medium"
    # what the SDK would refuse before sending it
    wrong = http.patch(
        url, json=patch_body(account.id, auto_add_parameters="sometimes"), headers=account.headers()
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["source"]["pointer"] == "/data/attributes/auto_add_parameters"


def test_bad_input_is_answered_400_with_pointers(sdk, account: AccountKeys) -> None:
    cases = [
        (
            patch_body(account.id, utm_source={"campaign": {"type": "dynamic", "value": "flow_id"}}),
            "/data/attributes/utm_source/campaign",
        ),
        (
            patch_body(account.id, custom_parameters=[{"name": "utm_source"}]),
            "/data/attributes/custom_parameters/0/name",
        ),
        (
            patch_body(account.id, custom_parameters=[{"name": "a"}, {"name": "a"}]),
            "/data/attributes/custom_parameters/1/name",
        ),
    ]
    for body, pointer in cases:
        with pytest.raises(BadRequestException) as info:
            sdk.Tracking_Settings.update_tracking_setting(account.id, body)
        assert info.value.status == 400, pointer
        pointers = [e["source"]["pointer"] for e in errors_of(info)]
        assert any(p.startswith(pointer) for p in pointers), (pointer, pointers)
    assert sdk.Tracking_Settings.get_tracking_setting(account.id).data.attributes.auto_add_parameters is False


def test_another_accounts_key_cannot_read_or_change_them(
    sdk, account: AccountKeys, other_account: AccountKeys
) -> None:
    with pytest.raises(NotFoundException):
        sdk.Tracking_Settings.get_tracking_setting(other_account.id)
    with pytest.raises(NotFoundException):
        sdk.Tracking_Settings.update_tracking_setting(
            other_account.id, patch_body(other_account.id, auto_add_parameters=True)
        )
    with pytest.raises(ApiException) as info:  # the body names the other account: a conflict
        sdk.Tracking_Settings.update_tracking_setting(account.id, patch_body(other_account.id))
    assert info.value.status == 409
    assert [item.id for item in sdk.Tracking_Settings.get_tracking_settings().data] == [account.id]
