"""What every tab needs: the runtime, who is acting (from the server-side login), and translated errors."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import logging
import threading
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
from pydantic import ValidationError

from assistant.auth import (
    PUBLIC,
    Actor,
    actor_by_id,
    actor_by_name,
    authenticate,
    end_login_session,
    login_session_hashes,
    login_session_user,
    session_token_hash,
    start_login_session,
)
from assistant.cases import LookupLimiter
from assistant.disk_full import is_disk_full, storage_full
from assistant.errors import USER_ERRORS, user_message
from assistant.i18n import LANGUAGES, translate
from assistant.jobs import Runtime
from assistant.onboarding import FirstAdminSetup
from assistant.review.case_thread import MessageLimiter

log = logging.getLogger(__name__)
LOGIN_FAILURES_ALLOWED = 5
LOGIN_LOCK_SECONDS = 60


def t(key: str, language: str = "da", **params: Any) -> str:
    """A UI label or message (``ui.toml``) in ``language``."""
    return translate(f"ui.{key}", language, **params)


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else "da"


class StoredTokenHash(str):
    """A login token's hash as :meth:`SessionTokens.keys` hands it out; looked up as it is, not hashed again
    (Gradio's log-out walks the keys to end every login of a user)."""


class SessionTokens(MutableMapping):
    """Gradio's login tokens (token → user name), kept in the record store as hashes, so logins survive a
    restart of the app; each is valid for ``max_age_seconds`` after its login (wall-clock time).

    Gradio keeps tokens in a plain dict for the life of the process; this mapping answers its look-ups from the
    store and forgets expired logins, so an old cookie gets the login page instead of the app.
    """

    def __init__(self, db, max_age_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.max_age_seconds = max_age_seconds
        self.clock = clock

    @staticmethod
    def _hash(token: str) -> str:
        return token if isinstance(token, StoredTokenHash) else session_token_hash(token)

    def _at(self, seconds_ago: float = 0.0) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock() - seconds_ago, dt.UTC).replace(tzinfo=None)

    def __setitem__(self, token: str, user: str) -> None:
        start_login_session(self.db, self._hash(token), user, self._at())

    def __getitem__(self, token: str) -> str:
        if not isinstance(token, str) or not token:
            raise KeyError(token)
        name = login_session_user(self.db, self._hash(token), self._at(self.max_age_seconds))
        if name is None:
            raise KeyError(token)
        return name

    def __delitem__(self, token: str) -> None:
        if not isinstance(token, str) or not end_login_session(self.db, self._hash(token)):
            raise KeyError(token)

    def __iter__(self):
        return iter([StoredTokenHash(h) for h in login_session_hashes(self.db, self._at(self.max_age_seconds))])

    def __len__(self) -> int:
        return len(login_session_hashes(self.db, self._at(self.max_age_seconds)))


def client_of(request: gr.Request | None) -> str:
    """The caller's address (what receipt lookups are counted by); behind a proxy, the proxy's."""
    client = getattr(request, "client", None) if request is not None else None
    return getattr(client, "host", None) or "unknown"


@dataclass
class AppContext:
    """Shared by the tabs of one app; the acting user always comes from Gradio's login cookie, never a field."""

    runtime: Runtime
    _user_ids: dict[str, str] = field(default_factory=dict)
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    sessions: SessionTokens | None = None
    receipt_limiter: LookupLimiter | None = None
    message_limiter: LookupLimiter | None = None  # reporter messages per case (assistant.review.case_thread)
    first_admin: FirstAdminSetup | None = None  # the one-time setup link, while the store has no account

    def __post_init__(self) -> None:
        settings = self.runtime.settings
        self.first_admin = self.first_admin or FirstAdminSetup(self.runtime.db, settings.setup_link_minutes)
        self.sessions = self.sessions or SessionTokens(self.runtime.db, settings.session_hours * 3600)
        self.receipt_limiter = self.receipt_limiter or LookupLimiter(settings.receipt_lookups_per_minute)
        self.message_limiter = self.message_limiter or MessageLimiter(settings.reporter_messages_per_minute)

    def login(self, username: str, password: str) -> bool:
        """Gradio's ``auth`` callback: checks the local account and remembers which user the name is.

        After ``LOGIN_FAILURES_ALLOWED`` wrong passwords for a name, that name is refused for
        ``LOGIN_LOCK_SECONDS`` without checking, which makes guessing slow.
        """
        name = (username or "").strip()
        now = time.monotonic()
        with self._lock:
            recent = [at for at in self._failures.get(name, []) if now - at < LOGIN_LOCK_SECONDS]
            self._failures[name] = recent
            if len(recent) >= LOGIN_FAILURES_ALLOWED:
                log.warning("login for %r refused: too many failed attempts", name)
                return False
        actor = authenticate(self.runtime.db, name, password or "")
        with self._lock:
            if actor is None:
                self._failures.setdefault(name, []).append(now)
                return False
            self._failures.pop(name, None)
            self._user_ids[actor.name] = actor.user_id
        return True

    def actor(self, request: gr.Request | None) -> Actor:
        """The logged-in user behind ``request`` (re-read, so a deactivated account stops at once), else public."""
        username = getattr(request, "username", None) if request is not None else None
        if not username:
            return PUBLIC
        with self._lock:
            user_id = self._user_ids.get(username)
        if user_id is None:  # logged in before a restart: the login is in the store, the name is the account's
            return actor_by_name(self.runtime.db, username) or PUBLIC
        return actor_by_id(self.runtime.db, user_id) or PUBLIC

    def wake_worker(self) -> None:
        self.runtime.start_worker().wake()


def friendly_errors(function: Callable) -> Callable:
    """Turn library errors into a translated ``gr.Error`` (the API caller gets it as an error too).

    Every handler takes the interface language as its first parameter.
    """

    def convert(error: Exception, args: tuple, kwargs: dict) -> gr.Error:
        lang = language_of(args[0] if args else kwargs.get("lang"))
        if isinstance(error, USER_ERRORS):
            return gr.Error(user_message(error, lang), print_exception=False)
        if isinstance(error, ValidationError):
            reason = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:3])
            return gr.Error(translate("input.invalid", lang, reason=reason), print_exception=False)
        if is_disk_full(error):
            log.error("the disk is full: %s refused", getattr(function, "__name__", "an action"))
            return gr.Error(storage_full().message(lang), print_exception=False)
        log.exception("unexpected error in the app")
        return gr.Error(translate("error.unexpected", lang))

    if inspect.isgeneratorfunction(function):
        @functools.wraps(function)
        def generator(*args, **kwargs):
            try:
                yield from function(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as error:  # noqa: BLE001 - every failure reaches the user translated
                raise convert(error, args, kwargs) from error

        return generator

    @functools.wraps(function)
    def plain(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as error:  # noqa: BLE001 - every failure reaches the user translated
            raise convert(error, args, kwargs) from error

    return plain
