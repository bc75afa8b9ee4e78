"""Queries on accounts and API keys."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from tidings.accounts.tables import Account, ApiKey, ApiKeyChanges
from tidings.db.base import utcnow

CHANGES_ROW = 1


def get_account(session: Session, account_id: str) -> Account | None:
    return session.get(Account, account_id)


def list_accounts(session: Session) -> list[Account]:
    return list(session.execute(select(Account).order_by(Account.created)).scalars())


def find_key(session: Session, key_hash: str) -> ApiKey | None:
    stmt = select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    return session.execute(stmt).scalars().first()


def list_keys(session: Session, account_id: str | None = None) -> list[ApiKey]:
    stmt = select(ApiKey).order_by(ApiKey.account_id, ApiKey.created)
    if account_id is not None:
        stmt = stmt.where(ApiKey.account_id == account_id)
    return list(session.execute(stmt).scalars())


def match_keys(
    session: Session, *, key_hash: str | None = None, ident: str | None = None, account_id: str | None = None
) -> list[ApiKey]:
    """Keys by their hash, or by their id or displayed prefix (revoked ones included)."""
    stmt = select(ApiKey).order_by(ApiKey.account_id, ApiKey.created)
    if key_hash is not None:
        stmt = stmt.where(ApiKey.key_hash == key_hash)
    if ident is not None:
        stmt = stmt.where(or_(ApiKey.id == ident, ApiKey.key_prefix == ident))
    if account_id is not None:
        stmt = stmt.where(ApiKey.account_id == account_id)
    return list(session.execute(stmt).scalars())


def key_changes(session: Session) -> int:
    """The revision key revocations raise (one primary-key read)."""
    stmt = select(ApiKeyChanges.revision).where(ApiKeyChanges.id == CHANGES_ROW)
    return session.execute(stmt).scalar_one_or_none() or 0


def raise_key_changes(session: Session) -> None:
    stmt = (
        update(ApiKeyChanges)
        .where(ApiKeyChanges.id == CHANGES_ROW)
        .values(revision=ApiKeyChanges.revision + 1, changed_at=utcnow())
    )
    if session.execute(stmt).rowcount == 0:  # type: ignore[attr-defined]
        session.add(ApiKeyChanges(id=CHANGES_ROW, revision=1, changed_at=utcnow()))
        session.flush()
