"""The first administrator of a new installation: a one-time setup link instead of a default password.

While the store has no account, ``debrief serve`` issues one random token and prints a link with it; the first
visitor who opens the link chooses the administrator's name and password. The token is kept only as a sha256 hash
(it is random, 256 bits, so a slow hash adds nothing), works once, and expires after ``setup_link_minutes``; a
restart issues a new one. Nothing secret is ever shown twice: unlike a generated password, the printed link is
useless once the account exists, so a console log that keeps it leaks nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable

from pydantic import BaseModel
from sqlalchemy import func, select

from assistant import audit
from assistant.auth import Actor, Role, add_user_in
from assistant.errors import InvalidInput, NotAllowed
from assistant.store import Database
from assistant.store.tables import User

SETUP_PATH = "/setup"
TOKEN_BYTES = 32


class SetupLink(BaseModel):
    """What ``debrief serve`` prints once: where to create the first administrator, and until when."""

    url: str
    token: str
    expires_at: dt.datetime


def has_users(db: Database) -> bool:
    """Whether any account exists (active or not); the setup link is offered only while none does."""
    with db.session() as session:
        return bool(session.scalar(select(func.count()).select_from(User)))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class FirstAdminSetup:
    """The one-time setup token of one running app: issued at start when there is no account, used once."""

    def __init__(self, db: Database, minutes: int, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.minutes = minutes
        self.clock = clock
        self._token_hash: str | None = None
        self._expires: float = 0.0
        self._lock = threading.Lock()

    def issue(self, base_url: str) -> SetupLink | None:
        """A fresh link when the store has no account (any earlier token stops working), else None."""
        if has_users(self.db):
            return None
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self._lock:
            self._token_hash = _hash(token)
            self._expires = self.clock() + self.minutes * 60
            expires = self._expires
        return SetupLink(url=f"{base_url.rstrip('/')}{SETUP_PATH}?token={token}", token=token,
                         expires_at=dt.datetime.fromtimestamp(expires, dt.UTC).replace(tzinfo=None))

    def pending(self) -> bool:
        """Whether a link is out that could still create the first administrator."""
        with self._lock:
            live = self._token_hash is not None and self.clock() < self._expires
        return live and not has_users(self.db)

    def check(self, token: str | None) -> None:
        """Refuse (translated ``NotAllowed``) a token that is wrong, used, expired, or late (an account exists)."""
        with self._lock:
            self._check_locked(token)

    def _check_locked(self, token: str | None) -> None:
        if has_users(self.db):  # first: a used link (its hash is gone by then) says so, not just "invalid"
            raise NotAllowed("onboarding.link_used")
        if self._token_hash is None or not token or not hmac.compare_digest(_hash(token), self._token_hash):
            raise NotAllowed("onboarding.link_invalid")
        if self.clock() >= self._expires:
            raise NotAllowed("onboarding.link_expired")

    def create_admin(self, token: str | None, name: str, password: str, repeated: str) -> Actor:
        """Create the first administrator with the link's token; the token is spent on success. Audited."""
        with self._lock:  # two visitors with the same link: the second finds the token spent
            self._check_locked(token)
            if password != repeated:
                raise InvalidInput("onboarding.passwords_differ")
            with self.db.session() as session:  # the account and its audit record commit together
                actor = add_user_in(session, name, Role.admin, password)
                audit.record(session, actor, "first_admin_created",
                             after={"name": actor.name, "role": actor.role.value}, note="setup link")
            self._token_hash = None
        return actor
