"""docs/cli.md is what the generator makes from the real ``--help`` pages, and it covers every command."""

from __future__ import annotations

from pathlib import Path

from ui.cli import debrief_app
from ui.cli_reference import CLI_DOC, command_paths, render_cli_reference

ROOT = Path(__file__).resolve().parents[2]


def test_cli_doc_is_current() -> None:
    current = (ROOT / CLI_DOC).read_text(encoding="utf-8") if (ROOT / CLI_DOC).is_file() else ""
    assert current == render_cli_reference(), f"{CLI_DOC} is out of date: run python scripts/update_docs.py"


def test_cli_doc_has_a_section_for_every_command_and_subcommand() -> None:
    paths = command_paths(debrief_app())
    assert ("serve",) in paths and ("review", "approve") in paths and () in paths
    text = render_cli_reference()
    missing = [path for path in paths if f"\n## {' '.join(('debrief', *path))}\n" not in text]
    assert missing == []


def test_the_rendering_does_not_depend_on_the_terminal(monkeypatch) -> None:
    expected = render_cli_reference()
    for name, value in {"COLUMNS": "40", "TERM": "xterm-256color", "FORCE_COLOR": "1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NO_COLOR", raising=False)
    rendered = render_cli_reference()
    assert rendered == expected
    assert "\x1b[" not in rendered and not any(line != line.rstrip() for line in rendered.splitlines())
