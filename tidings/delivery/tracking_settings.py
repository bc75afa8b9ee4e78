"""An account's UTM tracking settings (`/api/tracking-settings`) and the parameters they give
a message.

One resource per account, its id the account's id. An account that never changed them has
Klaviyo's defaults (its help centre: utm_source and utm_medium always on, `Klaviyo` and the
message type; utm_campaign the campaign's name, or the flow message's; utm_id and utm_term off;
no custom parameters; parameters added to links only once "Automatically add UTM parameters to
links" is switched on).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.db.base import utcnow
from tidings.db.dialect import upsert
from tidings.delivery.schemas import TrackingSettingAttributes
from tidings.delivery.tables import TrackingSetting
from tidings.jsonapi.errors import APIError, ErrorList, InvalidInput

UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_id", "utm_term")
ALWAYS_ON = ("utm_source", "utm_medium")
MAX_CUSTOM = 5  # Klaviyo: "up to 5 fully custom UTM parameters"

DEFAULTS: dict[str, Any] = {
    "auto_add_parameters": False,
    "utm_source": {
        "campaign": {"type": "static", "value": "Klaviyo"},
        "flow": {"type": "static", "value": "Klaviyo"},
    },
    "utm_medium": {
        "campaign": {"type": "dynamic", "value": "message_type"},
        "flow": {"type": "dynamic", "value": "message_type"},
    },
    "utm_campaign": {
        "campaign": {"type": "dynamic", "value": "campaign_name"},
        "flow": {"type": "dynamic", "value": "message_name"},
    },
    "utm_id": None,
    "utm_term": None,
    "custom_parameters": [],
}

_TABLE = TrackingSetting.__table__


def get_settings(session: Session, account_id: str) -> dict[str, Any]:
    """The account's settings as the resource's attributes."""
    stored = session.execute(
        select(TrackingSetting.settings).where(TrackingSetting.account_id == account_id)
    ).scalar()
    return {**copy.deepcopy(DEFAULTS), **(stored or {})}


def update_settings(session: Session, account_id: str, changes: TrackingSettingAttributes) -> dict[str, Any]:
    """Apply the attributes given (a parameter given replaces the stored one; `null` turns an
    optional parameter off); every problem is reported with its pointer."""
    given = changes.model_dump(exclude_unset=True, mode="json")
    errors: list[APIError] = []
    for name in ALWAYS_ON:
        if name in given and given[name] is None:
            errors.append(
                InvalidInput(f"{name} is always on and cannot be null.", pointer=f"/data/attributes/{name}")
            )
    if given.get("auto_add_parameters", False) is None:
        errors.append(
            InvalidInput(
                "auto_add_parameters must be true or false.", pointer="/data/attributes/auto_add_parameters"
            )
        )
    custom = given.get("custom_parameters")
    if custom is not None:
        errors += _custom_errors(custom)
    if errors:
        raise ErrorList(errors)
    current = get_settings(session, account_id)
    for name, value in given.items():
        if name in UTM and value is not None:
            # Only what the parameter's object names changes (campaign, flow, or both).
            value = {**(current.get(name) or {"campaign": None, "flow": None}), **value}
        current[name] = [] if name == "custom_parameters" and value is None else value
    for name in UTM:
        if current.get(name) is not None:
            current[name] = {"campaign": current[name].get("campaign"), "flow": current[name].get("flow")}
    current["custom_parameters"] = [
        {"name": p["name"], "campaign": p.get("campaign"), "flow": p.get("flow")}
        for p in current["custom_parameters"]
    ]
    row = {"account_id": account_id, "settings": current, "updated": utcnow()}
    session.execute(upsert(session, _TABLE, row, ["account_id"], ["settings", "updated"]))  # type: ignore[arg-type]
    session.flush()
    return current


def _custom_errors(custom: list[dict[str, Any]]) -> list[APIError]:
    errors: list[APIError] = []
    pointer = "/data/attributes/custom_parameters"
    if len(custom) > MAX_CUSTOM:
        errors.append(InvalidInput(f"At most {MAX_CUSTOM} custom parameters are allowed.", pointer=pointer))
    seen: set[str] = set()
    for index, parameter in enumerate(custom):
        name = parameter["name"].strip()
        if name.lower() in UTM:
            errors.append(InvalidInput(f"{name} is a built-in parameter.", pointer=f"{pointer}/{index}/name"))
        elif name.lower() in seen:
            errors.append(InvalidInput(f"{name} is given twice.", pointer=f"{pointer}/{index}/name"))
        elif not name:
            errors.append(
                InvalidInput("A parameter name cannot be blank.", pointer=f"{pointer}/{index}/name")
            )
        seen.add(name.lower())
    return errors


def utm_parameters(
    settings: Mapping[str, Any],
    *,
    kind: Literal["campaign", "flow"],
    values: Mapping[str, str | None],
    enabled: bool | None = None,
) -> dict[str, str]:
    """The parameters a message's links get: `kind` says which value of each parameter applies,
    `values` gives the dynamic ones (`campaign_name`, `message_type`, `flow_id`, `profile_id`
    ..., as the spec names them); a dynamic value not given (or `link_alt_text`, which is per
    link) leaves its parameter out. `enabled`: the message's own `add_tracking_params`, when it
    has one; else the account's `auto_add_parameters`."""
    if not (settings.get("auto_add_parameters") if enabled is None else enabled):
        return {}
    out: dict[str, str] = {}
    named = [(name, settings.get(name)) for name in UTM]
    named += [(p["name"], p) for p in settings.get("custom_parameters") or []]
    for name, parameter in named:
        if not parameter or not parameter.get(kind):
            continue
        spec = parameter[kind]
        value = spec["value"] if spec["type"] == "static" else values.get(spec["value"])
        if value:
            out[name] = str(value)
    return out
