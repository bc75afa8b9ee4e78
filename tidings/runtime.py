"""What one running process shares across requests: settings, database, limiter, the key
authority, and the process-wide services of domains (the ingestion inbox writer, ...).

The composition root (`tidings.domains.build_runtime`) builds it; the kit knows the domains'
parts only by the protocols it declares (`Authority`) or by their type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from tidings.config import Settings
from tidings.db.session import Database
from tidings.jsonapi.spec import Operation
from tidings.ratelimit import RateLimiter, make_limiter

S = TypeVar("S")


class Principal(Protocol):
    """Who a private key is."""

    @property
    def account_id(self) -> str: ...


class Authority(Protocol):
    """Reads credentials; implemented by the accounts domain (`tidings.accounts.authority`)."""

    def credential(self, authorization: str | None) -> str:
        """The private key in an `Authorization` header (401 when missing or malformed)."""
        ...

    def cached(self, credential: str) -> Principal | None:
        """The principal of a key seen lately, without the database (None: look it up); a key
        refused lately is refused again from memory."""
        ...

    def revision_due(self) -> bool:
        """Whether the key revision (which a revocation raises) should be read again."""
        ...

    def refresh(self, session: Session) -> None:
        """Read the key revision; when it moved, every kept key is looked up again."""
        ...

    def authenticate(self, session: Session, credential: str, client: str | None) -> Principal:
        """`client`: the caller's address, which failed lookups are counted against."""
        ...

    def prepare(self, session: Session) -> None:
        """At start-up: what the first request would otherwise pay for."""
        ...

    def require_scopes(self, principal: Any, needed: tuple[str, ...]) -> None: ...

    def session_token(self, authorization: str | None, cookies: Mapping[str, str]) -> str | None:
        """The web app's session cookie, when it is what authenticates the request (never when an
        `Authorization` header is present)."""
        ...

    def session_principal(
        self, session: Session, token: str, method: str, headers: Mapping[str, str]
    ) -> Principal:
        """Who a session cookie is (401 when unknown or expired; 403 for a cross-site unsafe request)."""
        ...

    def permit(self, principal: Any, op: Operation) -> None:
        """403 unless the principal may use the operation (scopes; a role's denied operations)."""
        ...

    def refuse_private_key(self, authorization: str | None) -> None:
        """A private key on /client is refused (it would leak from a browser or an app)."""
        ...

    def cached_public(self, company_id: str | None) -> str | None: ...

    def public_account_id(self, session: Session, company_id: str | None) -> str: ...


@dataclass
class Runtime:
    settings: Settings
    db: Database
    limiter: RateLimiter
    authority: Authority
    _services: dict[type, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, settings: Settings, db: Database | None, authority: Authority) -> Runtime:
        return cls(
            settings=settings,
            db=db or Database(settings),
            limiter=make_limiter(
                redis_url=settings.redis_url,
                scale=settings.rate_limit_scale,
                enabled=settings.rate_limits_enabled,
            ),
            authority=authority,
        )

    def provide(self, service: object) -> None:
        """Keep a process-wide service, found again by its type."""
        self._services[type(service)] = service

    def service(self, kind: type[S]) -> S:
        found = self._services.get(kind)
        if found is None:
            raise LookupError(
                f"no {kind.__name__} in this runtime (tidings.domains.build_runtime provides it)"
            )
        return found

    def stop(self) -> None:
        for service in self._services.values():
            stop = getattr(service, "stop", None)
            if callable(stop):
                stop()
