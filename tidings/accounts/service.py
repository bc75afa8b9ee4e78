"""Accounts and keys: creation, authentication and scope checks."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import zoneinfo
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from tidings.accounts import hooks, repository
from tidings.accounts.keycache import KeyCache, Principal
from tidings.accounts.schemas import AccountCreate, ContactInformation
from tidings.accounts.tables import Account, ApiKey
from tidings.db.base import utcnow
from tidings.db.ids import short_id, ulid
from tidings.jsonapi.errors import (
    AuthenticationFailed,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from tidings.jsonapi.spec import all_operations, operation

PRIVATE_PREFIX = "pk_"
KEY_PREFIX_LENGTH = 8  # what is stored and shown of a key: "pk_" and 5 characters
T = TypeVar("T")


def known_scopes() -> set[str]:
    return {scope for op_id in all_operations() for scope in operation(op_id).scopes}


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_account(session: Session, data: AccountCreate) -> Account:
    try:
        zoneinfo.ZoneInfo(data.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"Unknown timezone {data.timezone!r}.", pointer="/timezone") from None
    contact = data.contact_information or ContactInformation(organization_name=data.name)
    account_id = short_id()
    while repository.get_account(session, account_id) is not None:
        account_id = short_id()
    account = Account(
        id=account_id,
        name=data.name,
        test_account=data.test_account,
        industry=data.industry,
        timezone=data.timezone,
        preferred_currency=data.preferred_currency.upper(),
        locale=data.locale,
        contact_information=contact.model_dump(),
    )
    session.add(account)
    session.flush()
    hooks.notify(session, account.id)
    return account


def create_key(
    session: Session, account_id: str, *, scopes: list[str] | None = None, label: str = ""
) -> tuple[ApiKey, str]:
    """A new private key; the raw key is returned once and only its hash is stored."""
    if repository.get_account(session, account_id) is None:
        raise InvalidInput(f"No account with id {account_id!r}.")
    if scopes is not None:
        unknown = sorted(set(scopes) - known_scopes())
        if unknown:
            raise InvalidInput(f"Unknown scopes: {', '.join(unknown)}.")
    raw = PRIVATE_PREFIX + secrets.token_hex(20)
    key = ApiKey(
        account_id=account_id,
        id=ulid(),
        label=label,
        key_hash=hash_key(raw),
        key_prefix=raw[:KEY_PREFIX_LENGTH],
        scopes=sorted(set(scopes)) if scopes is not None else None,
    )
    session.add(key)
    session.flush()
    return key, raw


class TTLCache(Generic[T]):
    """Recently looked-up public accounts (company ids), so a hot endpoint does not query them
    every time. Private keys have their own cache (keycache.py)."""

    def __init__(self, ttl_seconds: float = 30.0) -> None:
        self.ttl = ttl_seconds
        self._items: dict[str, tuple[float, T]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> T | None:
        with self._lock:
            item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def put(self, key: str, value: T) -> None:
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[key] = (time.monotonic() + self.ttl, value)


def parse_authorization(header: str | None) -> str:
    if not header:
        raise NotAuthenticated("Missing authentication: send 'Authorization: Klaviyo-API-Key pk_...'.")
    scheme, _, credential = header.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer":
        raise AuthenticationFailed("OAuth access tokens are not supported; use a private API key.")
    if scheme != "Klaviyo-API-Key" or not credential:
        raise NotAuthenticated("Malformed Authorization header: expected 'Klaviyo-API-Key pk_...'.")
    return credential


def authenticate(session: Session, credential: str, keys: KeyCache, client: str | None = None) -> Principal:
    """The principal of a private key, from the process's cache when it can (see keycache).
    `client`: the caller's address, which failed lookups are counted against."""
    if keys.due():
        keys.refresh(session)
    digest = hash_key(credential)
    principal = keys.known(digest)
    if principal is not None:
        return principal
    lookup = keys.begin(digest, client)
    try:
        principal = _look_up(session, credential, digest)
    except AuthenticationFailed as refused:
        keys.refused(lookup, digest, refused.detail)
        raise
    except BaseException:
        keys.abandoned(lookup)
        raise
    keys.found(lookup, digest, principal)
    return principal


def _look_up(session: Session, credential: str, digest: str) -> Principal:
    if not credential.startswith(PRIVATE_PREFIX):
        # (A NUL is no key, and PostgreSQL refuses to compare text holding one.)
        public = len(credential) == 6 and "\x00" not in credential
        if public and repository.get_account(session, credential) is not None:
            raise AuthenticationFailed(
                "A public API key cannot be used here; /api endpoints need a private key (pk_...)."
            )
        raise AuthenticationFailed("Incorrect authentication credentials.")
    key = repository.find_key(session, digest)
    if key is None:
        raise AuthenticationFailed("Incorrect authentication credentials.")
    return Principal(key.account_id, key.id, frozenset(key.scopes) if key.scopes is not None else None)


def prepare_keys(session: Session, keys: KeyCache) -> None:
    """For start-up: read the key revision and make the key lookup's statement ready, so that
    the first request pays for neither."""
    keys.refresh(session)
    repository.find_key(session, hash_key(""))


def revoke_key(session: Session, ident: str, account_id: str | None = None) -> tuple[ApiKey, bool]:
    """Revoke a private key named by the key itself, its id or its prefix (as `tidings keys list`
    shows it). Raises the key revision, so every process drops the key at its next check.
    Returns the key and whether it was active until now."""
    ident = ident.strip().rstrip("…").strip()
    shown = ident
    if ident.startswith(PRIVATE_PREFIX) and len(ident) > KEY_PREFIX_LENGTH:  # the key itself
        matches = repository.match_keys(session, key_hash=hash_key(ident), account_id=account_id)
        shown = ident[:KEY_PREFIX_LENGTH] + "…"  # never echo a secret
    else:
        matches = repository.match_keys(session, ident=ident, account_id=account_id)
    if not matches:
        where = f" in account {account_id}" if account_id else ""
        raise NotFound(f"No private key matches {shown!r}{where}.")
    if len(matches) > 1:
        listed = ", ".join(f"{key.id} (account {key.account_id})" for key in matches)
        raise InvalidInput(f"{len(matches)} keys match {shown!r}: {listed}. Name one by its id.")
    key = matches[0]
    if key.revoked_at is not None:
        return key, False
    key.revoked_at = utcnow()
    repository.raise_key_changes(session)
    session.flush()
    return key, True


def active_keys(session: Session, account_id: str) -> list[ApiKey]:
    return [key for key in repository.list_keys(session, account_id) if key.revoked_at is None]


def grants(scopes: frozenset[str], needed: str) -> bool:
    if needed in scopes:
        return True
    area, _, level = needed.rpartition(":")
    return level == "read" and f"{area}:write" in scopes


def require_scopes(principal: Principal, needed: tuple[str, ...]) -> None:
    if principal.scopes is None:
        return
    missing = [scope for scope in needed if not grants(principal.scopes, scope)]
    if missing:
        raise PermissionDenied(f"This API key is missing the required scope(s): {', '.join(missing)}.")


def public_account(session: Session, company_id: str | None) -> Account:
    """The account named by a public key (`company_id` on /client endpoints)."""
    if not company_id:
        raise InvalidInput(
            "The company_id query parameter (your public API key) is required.", parameter="company_id"
        )
    # A NUL is no public key, and PostgreSQL refuses to compare text holding one.
    account = repository.get_account(session, company_id) if "\x00" not in company_id else None
    if account is None:
        raise InvalidInput(f"Invalid company_id {company_id!r}.", parameter="company_id")
    return account


def get_own_account(session: Session, account_id: str, requested_id: str) -> Account:
    """A key sees its own account only; any other id is not found (never forbidden)."""
    account = repository.get_account(session, account_id) if requested_id == account_id else None
    if account is None:
        raise NotFound(f"An account with id {requested_id} does not exist.")
    return account


def account_attributes(account: Account) -> dict[str, Any]:
    contact = ContactInformation.model_validate(account.contact_information or {}).model_dump()
    return {
        "test_account": account.test_account,
        "contact_information": contact,
        "industry": account.industry,
        "timezone": account.timezone,
        "preferred_currency": account.preferred_currency,
        "public_api_key": account.id,
        "locale": account.locale,
    }
