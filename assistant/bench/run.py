"""Runs the selected benchmark parts in order; a part that fails is reported, not fatal."""

from __future__ import annotations

import datetime as dt
import importlib
import time
import traceback
from collections.abc import Callable

from assistant.bench.results import BenchResult, PartResult, machine
from assistant.settings import Settings

PARTS: dict[str, str] = {
    "transcription": "assistant.bench.transcription:run",
    "transcription_server": "assistant.bench.transcription_server:run",
    "drafting": "assistant.bench.drafting:run",
    "end_to_end": "assistant.bench.drafting:run_end_to_end",
    "index": "assistant.bench.index:run",
    "memory": "assistant.bench.memory:run",
    "chat": "assistant.bench.chat:run",
    "load": "assistant.bench.load:run",
}
# The load part starts the whole app and queues every draft and answer behind one LLM: run it on request only.
DEFAULT_PARTS = [name for name in PARTS if name != "load"]


def _load(target: str) -> Callable[[Settings, bool, int], PartResult]:
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def run_bench(settings: Settings, quick: bool, only: list[str] | None, repetitions: int | None,
              command: str, on_part: Callable[[PartResult], None] | None = None) -> BenchResult:
    """Every selected part (default all but ``load``), ``repetitions`` times (default 1 quick, 3 full) after a
    warm-up."""
    unknown = set(only or []) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown benchmark part(s): {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    reps = repetitions or (1 if quick else 3)
    result = BenchResult(command=command, quick=quick, machine=machine(),
                         started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    started = time.perf_counter()
    for name in only or DEFAULT_PARTS:
        try:
            part = _load(PARTS[name])(settings, quick, reps)
        except Exception as exc:  # one broken part must not hide the others' numbers
            part = PartResult(part=name, error=f"{type(exc).__name__}: {exc}",
                              details={"traceback": traceback.format_exc(limit=5)})
        result.parts.append(part)
        if on_part:
            on_part(part)
    result.seconds = round(time.perf_counter() - started, 1)
    return result
