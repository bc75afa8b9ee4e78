"""Users, memberships, sessions and invitations: the behaviour behind signing in.

Passwords are hashed with argon2id (argon2-cffi). A session is an opaque 256-bit token in a
cookie; the database keeps only its SHA-256, so a copy of the database signs nobody in. Every
sign-in makes a new token (and drops the one the browser came with): no session fixation.
Throttling: after `MAX_FAILURES` wrong passwords in a row an email is locked for a time that
doubles with each further failure (30 s up to 15 min), in the database, so every process
agrees; a right password after the lock has passed resets the count."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from tidings.accounts.tables import Account
from tidings.db.base import utcnow
from tidings.db.ids import ulid
from tidings.jsonapi.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Throttled,
)
from tidings.web import repository, roles
from tidings.web.tables import Invitation, Membership, User, WebSession

MAX_FAILURES = 5
LOCK_BASE_SECONDS = 30
LOCK_MAX_SECONDS = 15 * 60
MIN_PASSWORD = 10
INVITATION_DAYS = 7
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_hasher = PasswordHasher()
# A hash to verify against when the email is unknown, so both answers take as long.
_DUMMY = _hasher.hash("tidings-no-such-user")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normal_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 320:
        raise InvalidInput("A valid email address is required.", pointer="/data/attributes/email")
    return email


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"The password must have at least {MIN_PASSWORD} characters.", pointer="/data/attributes/password"
        )


def check_role(role: str) -> str:
    if role not in roles.ROLES:
        raise InvalidInput(
            f"Unknown role {role!r}; one of: {', '.join(roles.ROLES)}.", pointer="/data/attributes/role"
        )
    return role


def create_user(session: Session, email: str, password: str, *, name: str = "") -> User:
    email = normal_email(email)
    check_password(password)
    if repository.user_by_email(session, email) is not None:
        raise Conflict(f"A user with the email {email} already exists.", pointer="/data/attributes/email")
    user = User(
        id=ulid(), email=email, name=name[:255], password_hash=_hasher.hash(password), failed_logins=0
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, email: str, password: str) -> User:
    user = repository.user_by_email(session, email.strip().lower())
    if user is None:
        raise NotFound(f"No user {email!r}.")
    check_password(password)
    user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    repository.delete_user_sessions(session, user.id)  # a new password signs every browser out
    return user


def add_membership(session: Session, account_id: str, user_id: str, role: str) -> Membership:
    check_role(role)
    if session.get(Account, account_id) is None:
        raise NotFound(f"No account {account_id!r}.")
    found = repository.membership(session, account_id, user_id)
    if found is not None:
        found.role = role
        return found
    member = Membership(account_id=account_id, user_id=user_id, role=role)
    session.add(member)
    session.flush()
    return member


def has_members(session: Session, account_id: str) -> bool:
    return repository.count_users(session, account_id) > 0


# ----------------------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class Lifetimes:
    idle: dt.timedelta
    absolute: dt.timedelta


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str  # the cookie's; shown to this browser only
    account_id: str


def open_session(session: Session, user: User, account_id: str, lifetimes: Lifetimes) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            id=digest(token),
            user_id=user.id,
            account_id=account_id,
            created=now,
            last_seen=now,
            expires=now + lifetimes.absolute,
        )
    )
    session.flush()
    return token


def sign_in(
    session: Session, email: str, password: str, lifetimes: Lifetimes, *, old_token: str | None = None
) -> SignedIn:
    """Check the password (throttled per email) and open a new session in the user's first account."""
    user = repository.user_by_email(session, email.strip().lower())
    now = utcnow()
    if user is None:
        _verify(_DUMMY, password)
        raise AuthenticationFailed("Incorrect email or password.")
    if user.locked_until is not None and user.locked_until > now:
        wait = max(1, int((user.locked_until - now).total_seconds()) + 1)
        raise Throttled(
            f"Too many failed sign-ins for this email. Try again in {wait} second(s).",
            headers={"Retry-After": str(wait)},
        )
    if not _verify(user.password_hash, password):
        raise AuthenticationFailed("Incorrect email or password.")  # the caller records it (record_failure)
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    accounts = repository.memberships_of(session, user.id)
    if not accounts:
        raise PermissionDenied("This user belongs to no account.")
    if old_token:
        repository.delete_session(session, digest(old_token))
    account_id = accounts[0][0].account_id
    return SignedIn(user, open_session(session, user, account_id, lifetimes), account_id)


def record_failure(session: Session, email: str) -> None:
    """Count a wrong password (in its own transaction: the sign-in's rolled back); lock the email
    once they are too many in a row."""
    user = repository.user_by_email(session, email.strip().lower())
    if user is None:
        return
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILURES:
        seconds = min(LOCK_MAX_SECONDS, LOCK_BASE_SECONDS * 2 ** min(user.failed_logins - MAX_FAILURES, 10))
        user.locked_until = utcnow() + dt.timedelta(seconds=seconds)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def current(session: Session, token: str, lifetimes: Lifetimes) -> tuple[WebSession, Membership]:
    """The live session of a token and the membership it works under (401 otherwise)."""
    found = repository.web_session(session, digest(token))
    now = utcnow()
    if found is None or found.expires <= now or found.last_seen + lifetimes.idle <= now:
        raise AuthenticationFailed("Your session has ended; sign in again.")
    member = repository.membership(session, found.account_id, found.user_id)
    if member is None:  # removed from the account meanwhile
        raise AuthenticationFailed("You no longer belong to this account; sign in again.")
    return found, member


def touch(session: Session, token: str) -> None:
    found = repository.web_session(session, digest(token))
    if found is not None:
        found.last_seen = utcnow()


def sign_out(session: Session, token: str) -> None:
    repository.delete_session(session, digest(token))


def switch_account(session: Session, token: str, account_id: str, lifetimes: Lifetimes) -> WebSession:
    found, _member = current(session, token, lifetimes)
    if repository.membership(session, account_id, found.user_id) is None:
        raise NotFound(f"You do not belong to an account {account_id!r}.", pointer="/data/id")
    found.account_id = account_id
    return found


# -------------------------------------------------------------------------------- invitations


def invite(
    session: Session, account_id: str, email: str, role: str, invited_by: str | None
) -> tuple[Invitation, str]:
    email = normal_email(email)
    check_role(role)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    invitation = Invitation(
        account_id=account_id,
        id=ulid(),
        email=email,
        role=role,
        token_hash=digest(token),
        invited_by=invited_by,
        created=now,
        expires=now + dt.timedelta(days=INVITATION_DAYS),
    )
    session.add(invitation)
    session.flush()
    return invitation, token


def accept(session: Session, token: str, password: str, name: str, lifetimes: Lifetimes) -> SignedIn:
    """Join the account: a new user chooses a password; an existing one proves theirs."""
    invitation = repository.invitation_by_token(session, digest(token))
    if invitation is None or invitation.accepted_at is not None or invitation.expires <= utcnow():
        raise NotFound("This invitation is unknown, used or expired.", pointer="/data/attributes/token")
    user = repository.user_by_email(session, invitation.email)
    if user is None:
        user = create_user(session, invitation.email, password, name=name)
    elif not _verify(user.password_hash, password):
        raise AuthenticationFailed("This email already has a user: enter its password to accept.")
    add_membership(session, invitation.account_id, user.id, invitation.role)
    invitation.accepted_at = utcnow()
    return SignedIn(
        user, open_session(session, user, invitation.account_id, lifetimes), invitation.account_id
    )


def revoke_invitation(session: Session, account_id: str, ident: str) -> None:
    found = repository.invitation(session, account_id, ident)
    if found is None or found.accepted_at is not None:
        raise NotFound(f"No open invitation {ident!r}.")
    session.delete(found)


# ------------------------------------------------------------------------------------ members


def change_role(session: Session, account_id: str, user_id: str, role: str, actor_role: str) -> Membership:
    member = repository.membership(session, account_id, user_id)
    if member is None:
        raise NotFound(f"No user {user_id!r} in this account.")
    check_role(role)
    if "owner" in (role, member.role) and actor_role != "owner":
        raise PermissionDenied("Only an owner can make or unmake an owner.")
    if member.role == "owner" and role != "owner":
        _keep_an_owner(session, account_id, user_id)
    member.role = role
    return member


def remove_member(session: Session, account_id: str, user_id: str, actor_role: str) -> None:
    member = repository.membership(session, account_id, user_id)
    if member is None:
        raise NotFound(f"No user {user_id!r} in this account.")
    if member.role == "owner":
        if actor_role != "owner":
            raise PermissionDenied("Only an owner can remove an owner.")
        _keep_an_owner(session, account_id, user_id)
    session.delete(member)
    repository.delete_user_sessions_in(session, user_id, account_id)


def _keep_an_owner(session: Session, account_id: str, leaving: str) -> None:
    owners = [
        m for m, _u in repository.members(session, account_id) if m.role == "owner" and m.user_id != leaving
    ]
    if not owners:
        raise Conflict("An account keeps at least one owner.")
