"""Who a request is: the accounts domain's answer to the kit's `tidings.runtime.Authority`.

It reads the `Authorization` header (private keys, `pk_...`) and `company_id` (public keys),
checks scopes, and keeps the process's memory of keys (`keycache.KeyCache`: keys in use,
revocations, wrong keys and guessing) and of public accounts, so a hot endpoint does not look
them up on every request. The composition root builds one per process and hands it to the
`Runtime`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from tidings.accounts import service
from tidings.accounts.keycache import KeyCache, Principal
from tidings.accounts.service import TTLCache
from tidings.config import Settings
from tidings.jsonapi.errors import InvalidInput, PermissionDenied
from tidings.jsonapi.spec import Operation


@dataclass(frozen=True)
class UserPrincipal:
    """A person signed in to the web app (a session cookie): the account they work in now, and
    the scopes of their role there. `denied` names operations the role may not use although its
    scopes would allow them (a content creator writes campaigns but does not send them)."""

    account_id: str
    user_id: str
    role: str
    scopes: frozenset[str]
    denied: frozenset[str] = frozenset()

    @property
    def key_id(self) -> str:
        return f"user:{self.user_id}"


class SessionLookup(Protocol):
    """Who a session cookie is: implemented by the web domain (`tidings.web.sessions`), handed to
    the authority by the composition root. It checks cross-site protection for unsafe methods."""

    def token(self, cookies: Mapping[str, str]) -> str | None: ...

    def principal(
        self, session: Session, token: str, method: str, headers: Mapping[str, str]
    ) -> UserPrincipal: ...


@dataclass
class KeyAuthority:
    keys: KeyCache = field(default_factory=KeyCache)
    public_accounts: TTLCache[str] = field(default_factory=TTLCache)
    # Session cookies (the web app). None: only keys authenticate /api.
    sessions: SessionLookup | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> KeyAuthority:
        return cls(
            keys=KeyCache(
                check_interval=settings.key_check_interval,
                failures_per_minute=settings.auth_failures_per_minute,
            )
        )

    def credential(self, authorization: str | None) -> str:
        return service.parse_authorization(authorization)

    def cached(self, credential: str) -> Principal | None:
        return self.keys.known(service.hash_key(credential))

    def revision_due(self) -> bool:
        return self.keys.due()

    def refresh(self, session: Session) -> None:
        self.keys.refresh(session)

    def authenticate(self, session: Session, credential: str, client: str | None) -> Principal:
        return service.authenticate(session, credential, self.keys, client)

    def prepare(self, session: Session) -> None:
        service.prepare_keys(session, self.keys)

    def require_scopes(self, principal: Principal, needed: tuple[str, ...]) -> None:
        service.require_scopes(principal, needed)

    def session_token(self, authorization: str | None, cookies: Mapping[str, str]) -> str | None:
        """The session cookie's token, when the request is to be authenticated by it: never when
        an `Authorization` header is present (a key always wins over a cookie)."""
        if authorization is not None or self.sessions is None:
            return None
        return self.sessions.token(cookies)

    def session_principal(
        self, session: Session, token: str, method: str, headers: Mapping[str, str]
    ) -> UserPrincipal:
        assert self.sessions is not None
        return self.sessions.principal(session, token, method, headers)

    def permit(self, principal: Any, op: Operation) -> None:
        """May this principal use this operation: a key by its scopes; a person by the scopes of
        their role, and not an operation the role is denied."""
        if isinstance(principal, UserPrincipal):
            missing = [s for s in op.scopes if not service.grants(principal.scopes, s)]
            if missing or op.operation_id in principal.denied:
                role = principal.role.replace("_", " ")
                raise PermissionDenied(f"Your role ({role}) does not allow {op.operation_id}.")
            return
        service.require_scopes(principal, op.scopes)

    def refuse_private_key(self, authorization: str | None) -> None:
        if authorization and service.PRIVATE_PREFIX in authorization:
            # A private key in a browser or app would leak it; refuse it loudly.
            raise InvalidInput(
                "Private API keys must not be used on /client endpoints; send company_id (your public key).",
                parameter="Authorization",
            )

    def cached_public(self, company_id: str | None) -> str | None:
        return self.public_accounts.get(company_id) if company_id else None

    def public_account_id(self, session: Session, company_id: str | None) -> str:
        account_id = service.public_account(session, company_id).id
        self.public_accounts.put(account_id, account_id)
        return account_id
