"""`debrief demo load` and `debrief demo clear`: synthetic cases that show every tab, removed again exactly."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli.common import PLAIN, console, open_runtime, translate_cli, user_errors


def demo_load(
    force: Annotated[bool, typer.Option("--force", help="Load even when the store holds real cases (the demo "
                                                        "then counts in their trends and reports until cleared).")]
    = False,
) -> None:
    """Fill an empty store with synthetic [DEMO] cases in every state (no AI model needed); once."""
    from assistant.onboarding import load_demo

    runtime = open_runtime()
    with user_errors():
        loaded = load_demo(runtime.db, runtime.index, runtime.settings, runtime.components, force=force)
    points = ", ".join(f"{status} {count}" for status, count in sorted(loaded.points.items()))
    console.print(translate_cli("onboarding.demo_done", cases=len(loaded.cases), points=points,
                                actions=loaded.actions), **PLAIN)
    console.print(translate_cli("onboarding.demo_receipts"), **PLAIN)
    for case in loaded.cases:
        console.print(f"  {case.receipt_code}  {case.status:<16} {case.key}", **PLAIN)


def demo_clear() -> None:
    """Remove exactly the demo cases (store, index, audit content); each erasure is audited; real cases stay."""
    from assistant.onboarding import clear_demo

    runtime = open_runtime()
    with user_errors():
        count = clear_demo(runtime.db, runtime.index, runtime.settings)
    console.print(translate_cli("onboarding.demo_cleared", count=count) if count
                  else translate_cli("onboarding.demo_none"), **PLAIN)
