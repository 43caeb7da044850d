"""Recognising a full disk, whichever layer noticed it first: the OS (ENOSPC, quota), SQLite or PostgreSQL.

A full disk is not the user's fault and not a bug: the work is kept as it was and can be retried once space is
freed, and people are told so (``storage.full``) instead of meeting an unexpected error.
"""

from __future__ import annotations

import errno

from assistant.errors import DebriefError

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_FULL_MESSAGES = ("database or disk is full", "no space left on device")
_POSTGRES_DISK_FULL = "53100"


def _causes(error: BaseException):
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        # SQLAlchemy keeps the driver's error in ``orig``; Python chains the rest.
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]


def is_disk_full(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says the disk or the database file has no room left."""
    for cause in _causes(error):
        if isinstance(cause, OSError) and cause.errno in _FULL_ERRNOS:
            return True
        if getattr(cause, "sqlstate", None) == _POSTGRES_DISK_FULL:
            return True
        if any(text in str(cause).lower() for text in _FULL_MESSAGES):
            return True
    return False


def storage_full() -> DebriefError:
    """The translated error people see instead of a stack trace."""
    return DebriefError("storage.full")
