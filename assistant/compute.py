"""One compute budget per machine: heavy model work takes a machine-wide slot first.

llama.cpp and Whisper each start as many threads as there are cores. Two Debrief processes on one machine (the app
with its worker, an extra ``debrief worker``, a CLI ingest) used to run both at once and oversubscribe the CPU:
the first LLM call of a draft did not finish in 30 minutes. A slot is an exclusive ``flock`` on a file that every
process on the machine opens, so model work runs one at a time (``compute_slots`` at a time, when a deployer gives
each model fewer threads than there are cores) and each run gets every thread it was built with.

The lock is released by the kernel when its process dies, so a killed worker never blocks the others.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

_held = threading.local()


def _slot_files(directory: Path, slots: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # shared by every user of the machine: anyone may take a slot
        directory.chmod(0o1777)
    return [directory / f"slot-{n}.lock" for n in range(slots)]


def _open(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o666)
    return fd


def _take(paths: list[Path]) -> int:
    """Block until one of the slot files is ours; returns its descriptor."""
    fds = [_open(p) for p in paths]
    try:
        while True:
            for fd in fds:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                for other in fds:
                    if other != fd:
                        os.close(other)
                return fd
            if len(fds) == 1:  # one slot: let the kernel queue us instead of polling
                fcntl.flock(fds[0], fcntl.LOCK_EX)
                return fds[0]
            time.sleep(0.05)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


@contextlib.contextmanager
def machine_slot(directory: Path, slots: int = 1, what: str = "model") -> Iterator[float]:
    """Hold one of the machine's ``slots`` compute slots while the block runs (re-entrant within a thread); yields
    the seconds spent waiting for it."""
    depth = getattr(_held, "depth", 0)
    if depth:
        _held.depth = depth + 1
        try:
            yield 0.0
        finally:
            _held.depth -= 1
        return
    started = time.perf_counter()
    fd = _take(_slot_files(Path(directory), max(1, slots)))
    waited = time.perf_counter() - started
    if waited > 1:
        log.info("%s waited %.1f s for a compute slot", what, waited)
    _held.depth = 1
    try:
        yield waited
    finally:
        _held.depth = 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
