"""Timing and memory helpers shared by the benchmarks: warm-up, median of repetitions, peak RSS."""

from __future__ import annotations

import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss: kB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


class RssSampler:
    """Highest RSS seen while a block runs, sampled every 50 ms (ru_maxrss only ever grows over the process)."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._proc = psutil.Process()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self._proc.memory_info().rss / 2**20)
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = round(max(self.peak_mb, self._proc.memory_info().rss / 2**20), 1)


def timed(fn: Callable[[], Any], repetitions: int, warmup: int = 1) -> tuple[float, list[float], Any]:
    """Median wall seconds of ``repetitions`` calls after ``warmup`` untimed calls, all times, last result."""
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(max(1, repetitions)):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, result


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]
