"""Invitations, users and roles, and switching accounts."""

from __future__ import annotations

from tests.conftest import make_account
from tests.web.helpers import PASSWORD, browser, make_user, sign_in

APP = "/api/x-tidings/app"


def _invite(client, email: str, role: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"{APP}/invitations",
        json={"data": {"type": "invitation", "attributes": {"email": email, "role": role}}},
    )


def _accept(client, token: str, password: str = "a new long password"):  # type: ignore[no-untyped-def]
    return client.post(
        f"{APP}/invitations/accept",
        json={
            "data": {
                "type": "invitation-acceptance",
                "attributes": {"token": token, "password": password, "name": "Ann"},
            }
        },
    )


def test_an_invitation_makes_a_member_once(app, db) -> None:
    account = make_account(db, name="Inviting")
    owner = make_user(db, account.id, "owner")
    with browser(app) as client:
        sign_in(client, owner)
        made = _invite(client, "ann@example.com", "analyst")
        assert made.status_code == 201, made.text
        token = made.json()["data"]["attributes"]["token"]
        listed = client.get(f"{APP}/invitations").json()["data"]
        assert [i["attributes"]["email"] for i in listed] == ["ann@example.com"]
        assert "token" not in listed[0]["attributes"]  # shown once, when made
    with browser(app) as guest:
        accepted = _accept(guest, token)
        assert accepted.status_code == 201, accepted.text
        me = accepted.json()["data"]["attributes"]
        assert me["role"] == "analyst" and me["account_id"] == account.id
        assert guest.get("/api/profiles").status_code == 200  # signed in
        assert _accept(guest, token).status_code == 404  # single use
    with browser(app) as client:
        sign_in(client, owner)
        users = {u["attributes"]["email"]: u for u in client.get(f"{APP}/users").json()["data"]}
        assert users["ann@example.com"]["attributes"]["role"] == "analyst"


def test_roles_change_and_members_are_removed_and_signed_out(app, db) -> None:
    account = make_account(db, name="Members")
    owner = make_user(db, account.id, "owner")
    member = make_user(db, account.id, "support")
    with browser(app) as them:
        sign_in(them, member)
        with browser(app) as client:
            sign_in(client, owner)
            users = {u["attributes"]["email"]: u["id"] for u in client.get(f"{APP}/users").json()["data"]}
            patched = client.patch(
                f"{APP}/users/{users[member]}",
                json={"data": {"type": "user", "id": users[member], "attributes": {"role": "manager"}}},
            )
            assert patched.status_code == 200 and patched.json()["data"]["attributes"]["role"] == "manager"
            assert them.get(f"{APP}/me").json()["data"]["attributes"]["role"] == "manager"
            # The last owner stays an owner.
            self_demote = client.patch(
                f"{APP}/users/{users[owner]}",
                json={"data": {"type": "user", "id": users[owner], "attributes": {"role": "admin"}}},
            )
            assert self_demote.status_code == 409
            assert client.delete(f"{APP}/users/{users[member]}").status_code == 204
        assert them.get("/api/accounts").status_code == 401


def test_an_admin_cannot_make_an_owner(app, db) -> None:
    account = make_account(db, name="Admins")
    admin = make_user(db, account.id, "admin")
    with browser(app) as client:
        sign_in(client, admin)
        assert _invite(client, "boss@example.com", "owner").status_code == 403
        assert _invite(client, "helper@example.com", "wizard").status_code == 400


def test_switching_accounts_changes_what_the_api_sees(app, db) -> None:
    first = make_account(db, name="Aaa first")
    second = make_account(db, name="Bbb second")
    stranger = make_account(db, name="Not mine")
    email = make_user(db, first.id, "owner")
    make_user(db, second.id, "analyst", email=email)
    with browser(app) as client:
        me = sign_in(client, email)["data"]["attributes"]
        assert {a["id"] for a in me["accounts"]} == {first.id, second.id}
        start = me["account_id"]
        target = second.id if start == first.id else first.id
        switched = client.post(f"{APP}/session/account", json={"data": {"type": "account", "id": target}})
        assert switched.status_code == 200, switched.text
        assert client.get("/api/accounts").json()["data"][0]["id"] == target
        refused = client.post(f"{APP}/session/account", json={"data": {"type": "account", "id": stranger.id}})
        assert refused.status_code == 404
        assert client.get("/api/accounts").json()["data"][0]["id"] == target
        # Another account's resources stay invisible to a session, as to a key.
        assert client.get(f"/api/accounts/{stranger.id}").status_code == 404


def test_me_and_switching_are_for_people_not_keys(client, db) -> None:
    account = make_account(db, name="Keys only")
    response = client.get(f"{APP}/me", headers=account.headers())
    assert response.status_code == 403


def test_an_existing_user_accepts_with_their_password(app, db) -> None:
    first = make_account(db, name="One")
    second = make_account(db, name="Two")
    email = make_user(db, first.id, "owner")
    owner2 = make_user(db, second.id, "owner")
    with browser(app) as client:
        sign_in(client, owner2)
        token = _invite(client, email, "manager").json()["data"]["attributes"]["token"]
    with browser(app) as guest:
        assert _accept(guest, token, "wrong password!").status_code == 401
        assert _accept(guest, token, PASSWORD).status_code == 201
        accounts = {a["id"] for a in guest.get(f"{APP}/me").json()["data"]["attributes"]["accounts"]}
    assert accounts == {first.id, second.id}
