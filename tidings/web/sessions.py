"""The session path of /api: a session cookie authenticates a request as the account the person
works in, with their role's scopes (`tidings.accounts.authority.SessionLookup`). The composition
root hands one to the key authority. Unsafe methods pass the cross-site check first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from tidings.accounts.authority import UserPrincipal
from tidings.config import Settings
from tidings.db.base import utcnow
from tidings.db.session import Database
from tidings.web import csrf, roles, service

SECURE_COOKIE = "__Host-tidings_session"  # the prefix makes browsers insist on Secure, Path=/, no Domain
PLAIN_COOKIE = "tidings_session"  # plain http (a development machine)
TOUCH_EVERY = dt.timedelta(minutes=5)


def lifetimes(settings: Settings) -> service.Lifetimes:
    return service.Lifetimes(
        idle=dt.timedelta(hours=settings.web_session_idle_hours),
        absolute=dt.timedelta(days=settings.web_session_max_days),
    )


def cookie_token(cookies: Mapping[str, str]) -> str | None:
    return cookies.get(SECURE_COOKIE) or cookies.get(PLAIN_COOKIE)


def principal_of(member_role: str, account_id: str, user_id: str) -> UserPrincipal:
    scopes = roles.role_scopes(member_role)
    return UserPrincipal(
        account_id=account_id,
        user_id=user_id,
        role=member_role,
        scopes=scopes,
        denied=roles.denied_operations(scopes),
    )


class WebSessions:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.lifetimes = lifetimes(settings)

    def token(self, cookies: Mapping[str, str]) -> str | None:
        return cookie_token(cookies)

    def principal(
        self, session: Session, token: str, method: str, headers: Mapping[str, str]
    ) -> UserPrincipal:
        csrf.check(method, headers)
        found, member = service.current(session, token, self.lifetimes)
        if utcnow() - found.last_seen >= TOUCH_EVERY:  # keep an active session alive (idle expiry)
            with self.db.write() as writing:
                service.touch(writing, token)
        return principal_of(member.role, member.account_id, member.user_id)
