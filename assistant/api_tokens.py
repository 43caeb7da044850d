"""Tokens for the REST API: one per integration (a BI tool, an intake form), each with the scopes it may use.

Only a sha256 of each secret is stored; the secret is shown once, when the token is made. A token acts through
the same role checks as a person in the app: each scope maps to the role whose permissions it needs, so the
library functions the app calls decide what an integration may see.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant import audit
from assistant.auth import Actor, Permission, Role
from assistant.errors import InvalidInput, NotAllowed, NotAuthenticated, NotFound
from assistant.store import Database
from assistant.store.tables import ApiToken, utcnow

SECRET_PREFIX = "dbr_"  # makes a leaked token easy to recognise (and to search for in logs and repositories)
SHOWN_PREFIX = 12  # characters of the secret kept in clear, so lists can tell tokens apart


class Scope(StrEnum):
    """What a token may do; an integration gets only the scopes it needs."""

    submit = "submit"  # hand in typed notes or a recording
    status = "status"  # a case's status by its receipt code
    read_public = "read:public"  # search approved points marked public
    read_staff = "read:staff"  # search approved points for staff (public and internal)
    read_trends = "read:trends"  # trends, themes and the monthly report


# The role an integration acts as under each scope: the library checks that role exactly as it checks a person's.
SCOPE_ROLES: dict[Scope, Role] = {
    Scope.submit: Role.reporter,
    Scope.status: Role.public,
    Scope.read_public: Role.public,
    Scope.read_staff: Role.staff,
    Scope.read_trends: Role.learning_agent,  # the reports permission; the API offers it no decision
}


class TokenInfo(BaseModel):
    """A token as lists and the API see it: never its secret."""

    id: str
    name: str
    prefix: str
    scopes: list[Scope]
    created_by: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes

    def require(self, scope: Scope) -> None:
        """Refuse with a translated ``NotAllowed`` unless the token was given ``scope``."""
        if scope not in self.scopes:
            raise NotAllowed("api.scope_missing", scope=scope.value)

    def actor_for(self, scope: Scope) -> Actor:
        """Who the token acts as under ``scope``: named after the integration, with the scope's role."""
        self.require(scope)
        return Actor(name=f"api:{self.name}", role=SCOPE_ROLES[scope])


class NewToken(TokenInfo):
    """A token just made, with the secret the integration sends as ``Authorization: Bearer …`` (shown once)."""

    secret: str = Field(repr=False)


def token_hash(secret: str) -> str:
    """What the store keeps of a secret: a plain sha256 is enough for 256 random bits, and keeps calls fast."""
    return hashlib.sha256(secret.strip().encode()).hexdigest()


def parse_scopes(values: list[str]) -> list[Scope]:
    """Scopes typed by a person (``read:public``), each once, in the order of :class:`Scope`."""
    try:
        chosen = {Scope(value.strip()) for value in values}
    except ValueError as error:
        raise InvalidInput("api.unknown_scope", scopes=", ".join(s.value for s in Scope)) from error
    if not chosen:
        raise InvalidInput("api.no_scope", scopes=", ".join(s.value for s in Scope))
    return [s for s in Scope if s in chosen]


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(id=row.id, name=row.name, prefix=row.prefix, scopes=[Scope(s) for s in row.scopes],
                     created_by=row.created_by, created_at=row.created_at, last_used_at=row.last_used_at,
                     revoked_at=row.revoked_at)


def create_token(db: Database, actor: Actor, name: str, scopes: list[Scope]) -> NewToken:
    """Make a token for the integration ``name``; only administrators may. The secret is in the answer only."""
    actor.require(Permission.manage_users)
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("input.invalid", reason="name")
    if not scopes:
        raise InvalidInput("api.no_scope", scopes=", ".join(s.value for s in Scope))
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with db.session() as session:
        row = ApiToken(name=name, token_hash=token_hash(secret), prefix=secret[:SHOWN_PREFIX],
                       scopes=[s.value for s in scopes], created_by=actor.name)
        session.add(row)
        session.flush()
        audit.record(session, actor, "api_token_created",
                     after={"token_id": row.id, "name": name, "scopes": row.scopes})
        return NewToken(**_info(row).model_dump(), secret=secret)


def list_tokens(db: Database, actor: Actor, *, include_revoked: bool = False) -> list[TokenInfo]:
    """Every token, oldest first (revoked ones only on request); only administrators may see them."""
    actor.require(Permission.manage_users)
    with db.session() as session:
        query = select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)
        if not include_revoked:
            query = query.where(ApiToken.revoked_at.is_(None))
        return [_info(row) for row in session.scalars(query)]


def _find(session: Session, id_or_prefix: str) -> ApiToken:
    """A token by its id or by the start of its secret as lists show it; NotFound unless exactly one matches."""
    text = id_or_prefix.strip()
    if text:
        row = session.get(ApiToken, text)
        if row is not None:
            return row
        if len(text) >= len(SECRET_PREFIX) + 4:
            rows = session.scalars(select(ApiToken).where(ApiToken.prefix.startswith(text[:SHOWN_PREFIX]))).all()
            if len(rows) == 1:
                return rows[0]
    raise NotFound("record.not_found", what="record.what.api_token")


def revoke_token(db: Database, actor: Actor, id_or_prefix: str) -> TokenInfo:
    """Stop a token at once (its next call gets 401); the row stays so the audit trail keeps its name."""
    actor.require(Permission.manage_users)
    with db.session() as session:
        row = _find(session, id_or_prefix)
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(session, actor, "api_token_revoked", after={"token_id": row.id, "name": row.name})
        session.flush()
        return _info(row)


def verify_token(db: Database, secret: str | None) -> TokenInfo:
    """The live token behind ``secret``; ``NotAuthenticated`` when it is missing, unknown or revoked (one answer
    for all three, so a caller learns nothing about which)."""
    if not secret or not secret.strip():
        raise NotAuthenticated("api.token_missing")
    with db.session() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret)))
        if row is None or row.revoked_at is not None:
            raise NotAuthenticated("api.token_invalid")
        return _info(row)


def record_call(db: Database, token: TokenInfo, scope: Scope | None, *, method: str, path: str, status: int,
                case_id: str | None = None, details: dict[str, Any] | None = None) -> None:
    """Audit one API call by ``token`` (whatever its outcome) and note when the token was last used."""
    role = SCOPE_ROLES[scope] if scope is not None else Role.public
    actor = Actor(name=f"api:{token.name}", role=role)
    with db.session() as session:
        audit.record(session, actor, "api_call", case_id=case_id,
                     after={"token_id": token.id, "scope": scope.value if scope else None, "method": method,
                            "path": path, "status": status, **(details or {})},
                     note=f"{method} {path} → {status}")
        row = session.get(ApiToken, token.id)
        if row is not None:
            row.last_used_at = utcnow()
