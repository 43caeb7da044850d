"""What every tab needs: the runtime, who is acting (from the server-side login), and translated errors."""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
from pydantic import ValidationError

from assistant.auth import PUBLIC, Actor, actor_by_id, authenticate
from assistant.cases import LookupLimiter
from assistant.disk_full import is_disk_full, storage_full
from assistant.errors import USER_ERRORS, user_message
from assistant.i18n import LANGUAGES, translate
from assistant.jobs import Runtime

log = logging.getLogger(__name__)
LOGIN_FAILURES_ALLOWED = 5
LOGIN_LOCK_SECONDS = 60


def t(key: str, language: str = "da", **params: Any) -> str:
    """A UI label or message (``ui.toml``) in ``language``."""
    return translate(f"ui.{key}", language, **params)


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else "da"


class SessionTokens(dict):
    """Gradio's login tokens (token → user name), each valid for ``max_age_seconds`` after its login.

    Gradio keeps tokens in a plain dict for the life of the process; this dict forgets expired ones on every
    look-up, so an old cookie gets the login page instead of the app.
    """

    def __init__(self, max_age_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.max_age_seconds = max_age_seconds
        self.clock = clock
        self._issued: dict[str, float] = {}
        self._lock = threading.Lock()

    def _expire(self) -> None:
        now = self.clock()
        with self._lock:
            for token in [t for t, at in self._issued.items() if now - at >= self.max_age_seconds]:
                self._issued.pop(token, None)
                super().pop(token, None)

    def __setitem__(self, token: str, user: str) -> None:
        with self._lock:
            self._issued[token] = self.clock()
            super().__setitem__(token, user)

    def __delitem__(self, token: str) -> None:
        with self._lock:
            self._issued.pop(token, None)
            super().__delitem__(token)

    def __getitem__(self, token: str) -> str:
        self._expire()
        return super().__getitem__(token)

    def get(self, token, default=None):
        self._expire()
        return super().get(token, default)

    def __contains__(self, token) -> bool:
        self._expire()
        return super().__contains__(token)

    def keys(self):
        self._expire()
        return super().keys()

    def __iter__(self):
        self._expire()
        return super().__iter__()

    def __len__(self) -> int:
        self._expire()
        return super().__len__()


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

    def __post_init__(self) -> None:
        settings = self.runtime.settings
        self.sessions = self.sessions or SessionTokens(settings.session_hours * 3600)
        self.receipt_limiter = self.receipt_limiter or LookupLimiter(settings.receipt_lookups_per_minute)

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
        actor = actor_by_id(self.runtime.db, user_id) if user_id else None
        return actor or PUBLIC

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
