"""Receipt codes: how a reporter without an account follows their case. Only a hash is stored."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable

from assistant.errors import TooManyRequests

# 128 bits of randomness, grouped for reading aloud or typing from a phone.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: fewer typing mistakes
_LENGTH = 26  # 32**26 = 2**130


def new_receipt_code() -> str:
    """A fresh, unguessable receipt code such as ``K7QD-…``."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
    return "-".join(raw[i : i + 5] for i in range(0, _LENGTH, 5))


def normalise_receipt(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch in _ALPHABET)


def receipt_hash(code: str) -> str:
    """What the store keeps: the code itself cannot be recovered from it."""
    return hashlib.sha256(normalise_receipt(code).encode()).hexdigest()


class LookupLimiter:
    """At most ``per_minute`` receipt lookups per client in any 60 seconds, so codes cannot be tried in bulk.

    Kept in memory (one app process serves the lookups); a restart forgets the counts, which only helps a guesser
    once per restart. ``client`` is whatever identifies the caller, here its address.
    """

    WINDOW_SECONDS = 60.0
    MAX_CLIENTS = 10_000  # forget the quietest clients first if an attacker rotates addresses

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, *,
                 message_key: str = "receipt.too_many_lookups", window_seconds: float | None = None) -> None:
        self.per_minute = per_minute  # per window: one minute unless ``window_seconds`` says otherwise
        if window_seconds is not None:
            self.WINDOW_SECONDS = window_seconds  # the open report page counts per hour
        self.message_key = message_key  # the same window also limits API tokens, with its own message
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Count one lookup by ``client``; raise a translated TooManyRequests (a NotAllowed) when it is over the
        limit."""
        now = self.clock()
        with self._lock:
            times = self._seen.setdefault(client, deque())
            while times and now - times[0] >= self.WINDOW_SECONDS:
                times.popleft()
            if len(times) >= self.per_minute:
                wait = max(1, round(self.WINDOW_SECONDS - (now - times[0])))
                raise TooManyRequests(self.message_key, seconds=wait, minutes=max(1, -(-wait // 60)),
                                      limit=self.per_minute)
            times.append(now)
            if len(self._seen) > self.MAX_CLIENTS:
                self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._seen.items() if not v or now - v[-1] >= self.WINDOW_SECONDS]:
            del self._seen[key]
        while len(self._seen) > self.MAX_CLIENTS:
            del self._seen[next(iter(self._seen))]
