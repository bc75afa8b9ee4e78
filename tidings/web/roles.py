"""Klaviyo's roles (help article 115005231648, simplified) as API scopes.

A signed-in person calls the same /api as an integration; their role in the account they work
in decides which operations they may use. Scopes are Klaviyo's (`profiles:read`, ...); the web
app's own operations add pseudo-scopes (`users:manage`, `api-keys:manage`), and sending is an
operation of its own (`DENIED_WITHOUT`): writing a campaign is not sending it."""

from __future__ import annotations

from tidings.accounts.service import known_scopes

ROLES = ("owner", "admin", "manager", "analyst", "campaign_coordinator", "content_creator", "support")
ROLE_LABELS = {
    "owner": "Owner",
    "admin": "Admin",
    "manager": "Manager",
    "analyst": "Analyst",
    "campaign_coordinator": "Campaign coordinator",
    "content_creator": "Content creator",
    "support": "Support",
}

USERS_MANAGE = "users:manage"
API_KEYS_MANAGE = "api-keys:manage"
CAMPAIGNS_SEND = "campaigns:send"
PSEUDO_SCOPES = frozenset({USERS_MANAGE, API_KEYS_MANAGE, CAMPAIGNS_SEND})

# Operations a role may use only with this pseudo-scope, whatever its other scopes.
DENIED_WITHOUT: dict[str, str] = {
    "send_campaign": CAMPAIGNS_SEND,
    "update_campaign_send_job": CAMPAIGNS_SEND,  # cancel or revert a send
}


def _areas(*areas: str, levels: tuple[str, ...] = ("read", "write")) -> set[str]:
    return {f"{area}:{level}" for area in areas for level in levels}


def role_scopes(role: str) -> frozenset[str]:
    every = known_scopes()
    reads = {s for s in every if s.endswith(":read")}
    if role in ("owner", "admin"):
        return frozenset(every | PSEUDO_SCOPES)
    if role == "manager":
        return frozenset(every | {CAMPAIGNS_SEND})
    if role == "analyst":
        return frozenset(reads)
    if role == "campaign_coordinator":
        return frozenset(
            _areas("campaigns", "templates", "images")
            | _areas(
                "lists", "segments", "metrics", "events", "profiles", "flows", "accounts", levels=("read",)
            )
            | {CAMPAIGNS_SEND}
        )
    if role == "content_creator":
        return frozenset(
            _areas("templates", "images", "campaigns", "flows")
            | _areas("lists", "segments", "accounts", levels=("read",))
        )
    if role == "support":
        return frozenset(
            _areas("subscriptions", "profiles")
            | _areas("lists", "segments", "events", "metrics", "accounts", levels=("read",))
        )
    raise ValueError(f"unknown role {role!r}")


def denied_operations(scopes: frozenset[str]) -> frozenset[str]:
    return frozenset(op for op, needed in DENIED_WITHOUT.items() if needed not in scopes)
