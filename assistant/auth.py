"""People and permissions: local accounts with argon2 password hashes, roles checked here (not only in the UI)."""

from __future__ import annotations

import datetime as dt
import hashlib
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from assistant.errors import InvalidInput, NotAllowed
from assistant.store import Database
from assistant.store.tables import LoginSession, User

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


class Role(StrEnum):
    reporter = "reporter"
    facilitator = "facilitator"
    learning_agent = "learning_agent"
    staff = "staff"
    admin = "admin"
    public = "public"  # anonymous readers of public learning points


class Permission(StrEnum):
    submit = "submit"
    facilitate = "facilitate"  # run a conversation guide and hand in its notes
    review = "review"
    decide = "decide"
    read_staff_points = "read_staff_points"
    read_public_points = "read_public_points"
    read_any_case = "read_any_case"
    erase = "erase"
    manage_users = "manage_users"
    read_pseudonym_map = "read_pseudonym_map"
    read_reports = "read_reports"


_GRANTS: dict[Role, set[Permission]] = {
    Role.public: {Permission.read_public_points},
    Role.reporter: {Permission.submit, Permission.read_public_points},
    Role.staff: {Permission.submit, Permission.read_public_points, Permission.read_staff_points},
    Role.facilitator: {
        Permission.submit, Permission.facilitate, Permission.read_public_points, Permission.read_staff_points,
    },
    Role.learning_agent: {
        Permission.submit, Permission.facilitate, Permission.read_public_points, Permission.read_staff_points,
        Permission.review, Permission.decide, Permission.read_any_case, Permission.read_reports,
    },
}
_GRANTS[Role.admin] = set(Permission)


class Actor(BaseModel):
    """Who is acting: a logged-in user, or the anonymous public reader."""

    user_id: str | None = None
    name: str = "anonym"
    role: Role = Role.public

    def can(self, permission: Permission) -> bool:
        return permission in _GRANTS[self.role]

    def require(self, permission: Permission) -> None:
        """Refuse with a translated ``NotAllowed`` unless the role grants ``permission``."""
        if not self.can(permission):
            raise NotAllowed("auth.not_allowed", role=self.role.value)


PUBLIC = Actor()
SYSTEM = Actor(name="system", role=Role.admin)


def add_user(db: Database, name: str, role: Role, password: str) -> Actor:
    """Create a local account; the password is stored only as an argon2 hash."""
    with db.session() as session:
        return add_user_in(session, name, role, password)


def add_user_in(session: Session, name: str, role: Role, password: str) -> Actor:
    """:func:`add_user` inside the caller's unit of work (so an audit record can commit with it)."""
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("input.invalid", reason="navn / name")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("auth.password_too_short", limit=MIN_PASSWORD_LENGTH)
    if role == Role.public:
        raise InvalidInput("input.invalid", reason="role")
    if session.scalar(select(User).where(User.name == name)):
        raise InvalidInput("auth.user_exists", name=name)
    user = User(name=name, role=role.value, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    return Actor(user_id=user.id, name=user.name, role=role)


def authenticate(db: Database, name: str, password: str) -> Actor | None:
    """The actor for valid credentials, else None (same answer for unknown user and wrong password)."""
    with db.session() as session:
        user = session.scalar(select(User).where(User.name == name.strip(), User.active.is_(True)))
        if user is None:
            _hasher.hash(password)  # spend the same time as a real check
            return None
        try:
            _hasher.verify(user.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        return Actor(user_id=user.id, name=user.name, role=Role(user.role))


def actor_by_id(db: Database, user_id: str) -> Actor | None:
    with db.session() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            return None
        return Actor(user_id=user.id, name=user.name, role=Role(user.role))


def actor_by_name(db: Database, name: str) -> Actor | None:
    """The active account called ``name`` (names are unique), else None."""
    with db.session() as session:
        user = session.scalar(select(User).where(User.name == name, User.active.is_(True)))
        return Actor(user_id=user.id, name=user.name, role=Role(user.role)) if user else None


# -- login sessions --------------------------------------------------------------------------------------------
# Tokens are random (128 bits or more), so a plain sha256 is enough to make a copy of the store useless as a
# cookie; a slow password hash would only slow every request.


def session_token_hash(token: str) -> str:
    """What the store keeps of a login token."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(db: Database, token_hash: str, user_name: str, issued_at: dt.datetime) -> bool:
    """Remember a login by its token's hash; False when no active account has that name."""
    with db.session() as session:
        user_id = session.scalar(select(User.id).where(User.name == user_name, User.active.is_(True)))
        if user_id is None:
            return False
        session.merge(LoginSession(token_hash=token_hash, user_id=user_id, issued_at=issued_at))
        return True


def login_session_user(db: Database, token_hash: str, issued_after: dt.datetime) -> str | None:
    """The name of the active user whose login this is, if it was issued after ``issued_after``; an expired
    login is forgotten on the way."""
    with db.session() as session:
        row = session.execute(
            select(LoginSession.issued_at, User.name, User.active).join(User, User.id == LoginSession.user_id)
            .where(LoginSession.token_hash == token_hash)
        ).first()
        if row is None:
            return None
        if row.issued_at <= issued_after:
            session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash))
            return None
        return row.name if row.active else None


def end_login_session(db: Database, token_hash: str) -> bool:
    """Forget one login (log-out); False when there was none."""
    with db.session() as session:
        return session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash)).rowcount > 0


def login_session_hashes(db: Database, issued_after: dt.datetime) -> list[str]:
    """Every live login's token hash; expired ones are forgotten first."""
    with db.session() as session:
        session.execute(delete(LoginSession).where(LoginSession.issued_at <= issued_after))
        return list(session.scalars(select(LoginSession.token_hash)))
