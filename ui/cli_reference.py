"""docs/cli.md, made from the real ``--help`` of every ``debrief`` command so the reference cannot drift.

``python scripts/update_docs.py`` writes the file; ``tests/docs/test_cli_reference.py`` fails when it is stale.
It lives in ``ui`` because the whole command (:func:`ui.cli.debrief_app`) includes ``serve``, and ``assistant``
never imports ``ui``.

The help pages are rendered by Typer and Rich, which choose width and colours from the terminal and the
environment. Here the width is fixed (:data:`WIDTH` columns), colours are off and trailing spaces are dropped, so
the file is the same on every machine and in CI.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import typer
from typer.testing import CliRunner

from ui.cli import debrief_app

CLI_DOC = Path("docs") / "cli.md"
PROG = "debrief"
WIDTH = 100
# What Rich reads when it builds a console: a fixed width, no colour, no terminal features.
HELP_ENV = {"COLUMNS": str(WIDTH), "LINES": "50", "NO_COLOR": "1", "TERM": "dumb", "FORCE_COLOR": None,
            "PY_COLORS": None, "GITHUB_ACTIONS": None, "TERMINAL_WIDTH": None}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_INTRO = """\
# Command-line reference

<!-- Generated from ui/cli.py and assistant/cli/ by `python scripts/update_docs.py`; do not edit by hand. -->

`debrief` is installed with the package (`pip install -e .`, or `./run.sh`, which also prepares the models). Every
command reads its settings from the environment or `debrief.toml`: see [settings.md](settings.md). Below is each
command's own `--help`, as printed in a terminal {width} columns wide.
"""


def command_paths(app: typer.Typer) -> list[tuple[str, ...]]:
    """Every command and subcommand of ``app`` as the words typed after ``debrief``, in ``--help`` order."""
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = []

    def walk(command, path: tuple[str, ...], ctx) -> None:  # Typer's (vendored) Click command and context
        paths.append(path)
        for name in command.list_commands(ctx) if hasattr(command, "list_commands") else []:
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                walk(sub, (*path, name), sub.context_class(sub, info_name=name, parent=ctx))

    walk(root, (), root.context_class(root, info_name=PROG))
    return paths


@contextmanager
def _fixed_terminal() -> Iterator[None]:
    """Typer reads ``TERMINAL_WIDTH`` and ``FORCE_COLOR`` once, at import: pin what it read for this rendering."""
    from typer import rich_utils

    with mock.patch.object(rich_utils, "MAX_WIDTH", WIDTH), mock.patch.object(rich_utils, "FORCE_TERMINAL", False):
        yield


def help_text(app: typer.Typer, path: tuple[str, ...]) -> str:
    """``debrief PATH --help`` as a terminal of :data:`WIDTH` columns shows it, without colours or trailing spaces."""
    with _fixed_terminal():
        done = CliRunner().invoke(app, [*path, "--help"], prog_name=PROG, env=HELP_ENV, terminal_width=WIDTH,
                                  color=False)
    if done.exit_code != 0:
        raise RuntimeError(f"{PROG} {' '.join(path)} --help failed ({done.exit_code}):\n{done.output}")
    lines = [line.rstrip() for line in _ANSI.sub("", done.output).splitlines()]
    return "\n".join(lines).strip("\n")


def _title(path: tuple[str, ...]) -> str:
    return " ".join((PROG, *path))


def _anchor(title: str) -> str:
    """The heading's anchor as GitHub and most Markdown viewers make it."""
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")


def render_cli_reference(app: typer.Typer | None = None) -> str:
    """The whole docs/cli.md: a contents list, then one section per command with its ``--help``."""
    app = app or debrief_app()
    paths = command_paths(app)
    parts = [_INTRO.format(width=WIDTH), "## Commands\n"]
    parts.append("\n".join(f"{'  ' * max(len(path) - 1, 0)}- [`{_title(path)}`](#{_anchor(_title(path))})"
                           for path in paths if path) + "\n")
    for path in paths:
        parts.append(f"## {_title(path)}\n\n```text\n{help_text(app, path)}\n```\n")
    return "\n".join(parts)


__all__ = ["CLI_DOC", "WIDTH", "command_paths", "help_text", "render_cli_reference"]
