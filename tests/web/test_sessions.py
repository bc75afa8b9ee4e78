"""Signing in and out: the cookie, rotation on sign-in, expiry, throttling, cross-site requests,
and a key always winning over a cookie."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.conftest import REVISION, make_account
from tests.web.helpers import PASSWORD, browser, make_user, sign_in
from tidings.web import service
from tidings.web.tables import User, WebSession

SESSION = "/api/x-tidings/app/session"


def _body(email: str, password: str) -> dict:
    return {"data": {"type": "session", "attributes": {"email": email, "password": password}}}


def test_sign_in_sets_an_httponly_samesite_cookie_and_me_answers(app, db) -> None:
    account = make_account(db, name="Cookie shop")
    email = make_user(db, account.id, "manager")
    with browser(app) as client:
        response = client.post(SESSION, json=_body(email, PASSWORD))
        assert response.status_code == 201, response.text
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("tidings_session=")  # plain http: no __Host- prefix, not Secure
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        me = client.get("/api/x-tidings/app/me").json()["data"]["attributes"]
        assert me["email"] == email and me["role"] == "manager" and me["account_id"] == account.id
        assert [a["id"] for a in me["accounts"]] == [account.id]
        # The session authenticates Klaviyo's API as the account.
        got = client.get("/api/accounts")
        assert got.status_code == 200 and got.json()["data"][0]["id"] == account.id


def test_the_token_is_stored_hashed_and_rotated_on_every_sign_in(app, db) -> None:
    account = make_account(db, name="Rotation")
    email = make_user(db, account.id)
    with browser(app) as client:
        sign_in(client, email)
        first = client.cookies["tidings_session"]
        sign_in(client, email)  # signing in again, with the old cookie
        second = client.cookies["tidings_session"]
    assert first != second
    with db.read() as session:
        ids = set(session.scalars(select(WebSession.id)))
    assert service.digest(second) in ids
    assert service.digest(first) not in ids  # the fixated token is gone
    assert first not in ids and second not in ids
    with browser(app) as stale:
        stale.cookies.set("tidings_session", first)
        assert stale.get("/api/x-tidings/app/me").status_code == 401


def test_sign_out_ends_the_session(app, db) -> None:
    account = make_account(db, name="Sign out")
    email = make_user(db, account.id)
    with browser(app) as client:
        sign_in(client, email)
        token = client.cookies["tidings_session"]
        assert client.delete(SESSION).status_code == 204
        client.cookies.set("tidings_session", token)
        response = client.get("/api/accounts")
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_wrong_password_and_unknown_email_get_the_same_401(app, db) -> None:
    account = make_account(db, name="Wrong")
    email = make_user(db, account.id)
    with browser(app) as client:
        wrong = client.post(SESSION, json=_body(email, "not the password"))
        unknown = client.post(SESSION, json=_body("nobody@example.com", PASSWORD))
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["errors"][0]["detail"] == unknown.json()["errors"][0]["detail"]
    assert "set-cookie" not in wrong.headers


def test_sign_in_is_throttled_after_repeated_failures_even_with_the_right_password(app, db) -> None:
    account = make_account(db, name="Throttle")
    email = make_user(db, account.id)
    with browser(app) as client:
        for _ in range(service.MAX_FAILURES):
            assert client.post(SESSION, json=_body(email, "guess guess guess")).status_code == 401
        locked = client.post(SESSION, json=_body(email, PASSWORD))
        assert locked.status_code == 429
        assert int(locked.headers["Retry-After"]) >= 1
    with db.write() as session:  # the lock passes: the right password works and resets the count
        user = session.scalars(select(User).where(User.email == email)).one()
        user.locked_until = user.locked_until - dt.timedelta(hours=1)
    with browser(app) as client:
        sign_in(client, email)
    with db.read() as session:
        assert session.scalars(select(User.failed_logins).where(User.email == email)).one() == 0


def test_an_idle_session_ends(app, db) -> None:
    account = make_account(db, name="Idle")
    email = make_user(db, account.id)
    with browser(app) as client:
        sign_in(client, email)
        token = client.cookies["tidings_session"]
        with db.write() as session:
            row = session.get(WebSession, service.digest(token))
            row.last_seen = row.last_seen - dt.timedelta(hours=13)
        assert client.get("/api/accounts").status_code == 401


def test_cross_site_unsafe_requests_with_the_cookie_are_refused(app, db) -> None:
    account = make_account(db, name="CSRF")
    email = make_user(db, account.id)
    body = {"data": {"type": "list", "attributes": {"name": "From elsewhere"}}}
    with browser(app) as client:
        sign_in(client, email)
        cross = client.post("/api/lists", json=body, headers={"Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 403, cross.text
        assert cross.json()["errors"][0]["code"] == "permission_denied"
        same_site = client.post("/api/lists", json=body, headers={"Sec-Fetch-Site": "same-site"})
        assert same_site.status_code == 403
        # No Fetch Metadata (an older browser): the Origin must be this host.
        del client.headers["Sec-Fetch-Site"]
        foreign = client.post("/api/lists", json=body, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403
        own = client.post("/api/lists", json=body, headers={"Origin": "http://testserver"})
        assert own.status_code == 201, own.text
        # An HTML form cannot send JSON: a form-encoded body is refused.
        form = client.post(
            "/api/lists", content=b"a=b", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert form.status_code == 415
        # Safe methods pass whatever the headers.
        assert client.get("/api/lists", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200
        # Signing in from another site is refused too (login CSRF).
        assert (
            client.post(
                SESSION, json=_body(email, PASSWORD), headers={"Sec-Fetch-Site": "cross-site"}
            ).status_code
            == 403
        )
    with db.read() as session:
        from tidings.lists.tables import List as ListTable

        names = list(session.scalars(select(ListTable.name).where(ListTable.account_id == account.id)))
    assert names == ["From elsewhere"]


def test_a_key_wins_over_a_cookie(app, db) -> None:
    mine = make_account(db, name="Cookie account")
    other = make_account(db, name="Key account")
    email = make_user(db, mine.id, "analyst")
    with browser(app) as client:
        sign_in(client, email)
        # With an Authorization header the cookie is ignored: the key's account answers...
        as_key = client.get(
            "/api/accounts", headers={"Authorization": f"Klaviyo-API-Key {other.private_key}"}
        )
        assert as_key.json()["data"][0]["id"] == other.id
        # ...and a wrong key is refused, whatever the cookie.
        wrong = client.get("/api/accounts", headers={"Authorization": "Klaviyo-API-Key pk_wrong"})
        assert wrong.status_code == 401


def test_without_a_cookie_or_key_api_is_401(app) -> None:
    with browser(app) as client:
        response = client.get("/api/accounts", headers={"revision": REVISION})
    assert response.status_code == 401
