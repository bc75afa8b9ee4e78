"""Isolation cases for the web app's own endpoints (a full-access key of B on A's people)."""

from __future__ import annotations

from tests.isolation import Case, Listing
from tests.web.helpers import make_user
from tidings.web import repository, service


def _user_of_a(env) -> dict[str, str]:  # type: ignore[no-untyped-def]
    email = make_user(env.db, env.a.id, "analyst")
    with env.db.read() as session:
        return {"id": repository.user_by_email(session, email).id}


def _invitation_of_a(env) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with env.db.write() as session:
        invitation, _token = service.invite(session, env.a.id, "guest@example.com", "support", None)
    return {"id": invitation.id}


def _users_of_a(env) -> list[str]:  # type: ignore[no-untyped-def]
    return [_user_of_a(env)["id"]]


def _invitations_of_a(env) -> list[str]:  # type: ignore[no-untyped-def]
    return [_invitation_of_a(env)["id"]]


CASES = [
    Case(
        "PATCH",
        "/api/x-tidings/app/users/{id}",
        _user_of_a,
        body=lambda p: {"data": {"type": "user", "id": p["id"], "attributes": {"role": "owner"}}},
    ),
    Case("DELETE", "/api/x-tidings/app/users/{id}", _user_of_a),
    Case("DELETE", "/api/x-tidings/app/invitations/{id}", _invitation_of_a),
]
LISTINGS = [
    Listing("/api/x-tidings/app/users", _users_of_a),
    Listing("/api/x-tidings/app/invitations", _invitations_of_a),
]
EXEMPT = {
    ("POST", "/api/x-tidings/app/session"): "signs in: the account is the user's own",
    ("DELETE", "/api/x-tidings/app/session"): "signs this browser out; names no resource",
    ("GET", "/api/x-tidings/app/me"): "the caller's own user (tests/web/test_people.py)",
    ("POST", "/api/x-tidings/app/session/account"): "switching to another's account is a 404 "
    "(tests/web/test_people.py::test_switching_accounts_changes_what_the_api_sees)",
    ("POST", "/api/x-tidings/app/invitations"): "writes only, into the caller's account",
    ("POST", "/api/x-tidings/app/invitations/accept"): "the token names the account",
    ("GET", "/api/x-tidings/app/api-keys"): "lists only the caller's account's keys (prefixes, not keys)",
    ("GET", "/api/x-tidings/app/home"): "the caller's account's figures only",
}
