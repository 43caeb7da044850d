"""One compute budget per machine: model work in separate processes takes turns instead of oversubscribing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

from assistant.compute import machine_slot

HOLD = textwrap.dedent("""
    import sys, time
    from assistant.compute import machine_slot
    with machine_slot(sys.argv[1], int(sys.argv[2])):
        print(f"start {time.monotonic()}", flush=True)
        time.sleep(float(sys.argv[3]))
        print(f"end {time.monotonic()}", flush=True)
""")


def _hold(directory, slots: int, seconds: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", HOLD, str(directory), str(slots), str(seconds)],
                            stdout=subprocess.PIPE, text=True)


def _span(process: subprocess.Popen) -> tuple[float, float]:
    out = dict(line.split() for line in process.communicate(timeout=60)[0].splitlines())
    return float(out["start"]), float(out["end"])


def test_two_processes_with_one_slot_run_their_model_work_one_after_the_other(tmp_path):
    first, second = _hold(tmp_path, 1, 1.0), _hold(tmp_path, 1, 1.0)
    (a_start, a_end), (b_start, b_end) = sorted([_span(first), _span(second)])
    assert b_start >= a_end - 0.01


def test_two_slots_let_two_processes_run_at_once(tmp_path):
    first, second = _hold(tmp_path, 2, 1.5), _hold(tmp_path, 2, 1.5)
    (a_start, a_end), (b_start, b_end) = sorted([_span(first), _span(second)])
    assert b_start < a_end


def test_a_killed_process_frees_its_slot(tmp_path):
    holder = _hold(tmp_path, 1, 60.0)
    holder.stdout.readline()  # it holds the slot now
    holder.kill()
    holder.wait()
    started = time.monotonic()
    with machine_slot(tmp_path, 1):
        assert time.monotonic() - started < 5


def test_a_thread_already_holding_the_slot_can_take_it_again_and_another_thread_waits(tmp_path):
    order: list[str] = []
    with machine_slot(tmp_path, 1):
        with machine_slot(tmp_path, 1) as waited:  # nested: no deadlock, no wait
            assert waited == 0.0
        def other_thread() -> None:
            with machine_slot(tmp_path, 1):
                order.append("other")

        other = threading.Thread(target=other_thread)
        other.start()
        time.sleep(0.3)
        order.append("first done")
    other.join(timeout=5)
    assert order == ["first done", "other"]
