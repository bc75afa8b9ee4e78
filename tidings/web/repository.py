"""The web domain's queries."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tidings.accounts.tables import Account
from tidings.web.tables import Invitation, Membership, User, WebSession


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email)).one_or_none()


def membership(session: Session, account_id: str, user_id: str) -> Membership | None:
    return session.get(Membership, (account_id, user_id))


def memberships_of(session: Session, user_id: str) -> list[tuple[Membership, Account]]:
    rows = session.execute(
        select(Membership, Account)
        .join(Account, Account.id == Membership.account_id)
        .where(Membership.user_id == user_id)
        .order_by(Account.name, Account.id)
    )
    return [(m, a) for m, a in rows.tuples()]


def members(session: Session, account_id: str) -> list[tuple[Membership, User]]:
    rows = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.account_id == account_id)
        .order_by(User.email)
    )
    return [(m, u) for m, u in rows.tuples()]


def count_users(session: Session, account_id: str) -> int:
    return len(session.scalars(select(Membership.user_id).where(Membership.account_id == account_id)).all())


def web_session(session: Session, digest: str) -> WebSession | None:
    return session.get(WebSession, digest)


def delete_session(session: Session, digest: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == digest))


def delete_user_sessions(session: Session, user_id: str) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def delete_user_sessions_in(session: Session, user_id: str, account_id: str) -> None:
    session.execute(
        delete(WebSession).where(WebSession.user_id == user_id, WebSession.account_id == account_id)
    )


def invitation_by_token(session: Session, digest: str) -> Invitation | None:
    return session.scalars(select(Invitation).where(Invitation.token_hash == digest)).one_or_none()


def invitations(session: Session, account_id: str) -> list[Invitation]:
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.account_id == account_id, Invitation.accepted_at.is_(None))
            .order_by(Invitation.created.desc())
        )
    )


def invitation(session: Session, account_id: str, ident: str) -> Invitation | None:
    return session.get(Invitation, (account_id, ident))
