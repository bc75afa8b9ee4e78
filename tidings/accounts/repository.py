"""Queries on accounts and API keys."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tidings.accounts.tables import Account, ApiKey


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
