#!/usr/bin/env python3
"""Regenerate the docs made from code (docs/settings.md); ``--check`` only reports whether they are current.

Run it after adding or changing a setting: ``python scripts/update_docs.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.settings_reference import SETTINGS_DOC, render_settings_reference  # noqa: E402


def main(argv: list[str]) -> int:
    """Write (or with ``--check`` compare) every generated doc; exit 1 when a checked doc is stale."""
    target = ROOT / SETTINGS_DOC
    text = render_settings_reference()
    if "--check" in argv:
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if current != text:
            print(f"{SETTINGS_DOC} is out of date: run python scripts/update_docs.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {SETTINGS_DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
