#!/usr/bin/env python3
"""Regenerate the docs made from code (docs/settings.md, docs/cli.md); ``--check`` only reports if they are stale.

Run it after adding or changing a setting or a command: ``python scripts/update_docs.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.settings_reference import SETTINGS_DOC, render_settings_reference  # noqa: E402
from ui.cli_reference import CLI_DOC, render_cli_reference  # noqa: E402

GENERATED: list[tuple[Path, Callable[[], str]]] = [
    (SETTINGS_DOC, render_settings_reference),
    (CLI_DOC, render_cli_reference),
]


def main(argv: list[str]) -> int:
    """Write (or with ``--check`` compare) every generated doc; exit 1 when a checked doc is stale."""
    check = "--check" in argv
    stale = 0
    for doc, render in GENERATED:
        target = ROOT / doc
        text = render()
        if check:
            current = target.read_text(encoding="utf-8") if target.is_file() else ""
            if current != text:
                print(f"{doc} is out of date: run python scripts/update_docs.py", file=sys.stderr)
                stale += 1
            continue
        target.write_text(text, encoding="utf-8")
        print(f"wrote {doc}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
