"""Who a request is: the accounts domain's answer to the kit's `tidings.runtime.Authority`.

It reads the `Authorization` header (private keys, `pk_...`) and `company_id` (public keys),
checks scopes, and keeps the process's memory of keys (`keycache.KeyCache`: keys in use,
revocations, wrong keys and guessing) and of public accounts, so a hot endpoint does not look
them up on every request. The composition root builds one per process and hands it to the
`Runtime`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tidings.accounts import service
from tidings.accounts.keycache import KeyCache, Principal
from tidings.accounts.service import TTLCache
from tidings.config import Settings
from tidings.jsonapi.errors import InvalidInput


@dataclass
class KeyAuthority:
    keys: KeyCache = field(default_factory=KeyCache)
    public_accounts: TTLCache[str] = field(default_factory=TTLCache)

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
