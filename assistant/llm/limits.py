"""Time limits for LLM calls: a per-call limit from settings, narrowed by whatever budget the caller has left.

A draft runs several calls under one budget (``draft_seconds``); rather than widen every backend's interface, the
caller opens :func:`time_limit` and the backends read :func:`seconds_left` when a call starts.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("llm_deadline", default=None)


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """LLM calls started inside the block end by ``seconds`` from now (an outer, earlier limit still holds)."""
    ends = time.monotonic() + max(0.0, seconds)
    outer = _deadline.get()
    token = _deadline.set(ends if outer is None else min(outer, ends))
    try:
        yield
    finally:
        _deadline.reset(token)


def seconds_left(call_limit: float) -> float:
    """How long a call starting now may run: ``call_limit``, or less when an enclosing limit ends sooner."""
    ends = _deadline.get()
    return call_limit if ends is None else max(0.0, min(call_limit, ends - time.monotonic()))


def extend_limit(seconds: float) -> None:
    """Push the enclosing limit back by ``seconds`` (time spent queueing for the machine is not the caller's)."""
    ends = _deadline.get()
    if ends is not None and seconds > 0:
        _deadline.set(ends + seconds)
