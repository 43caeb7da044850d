"""The ``debrief`` command stays one package with one way of registering commands and each helper written once:
modules hold plain top-level command functions, ``assistant.cli`` assembles them, ``ui.cli`` adds ``serve``."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
CLI_MODULES = sorted((ROOT / "assistant" / "cli").glob("*.py")) + [ROOT / "ui" / "cli.py"]
COMMANDS = {"ingest", "show", "jobs", "db", "models", "similar", "ask", "index", "review", "erase", "worker", "serve",
            "users", "bench", "eval", "patterns", "trends", "report", "actions", "backup", "restore",
            "demo", "tokens", "judgements"}
SUBCOMMANDS = [("jobs", "list"), ("jobs", "retry"), ("db", "upgrade"), ("models", "prepare"), ("index", "rebuild"),
               ("index", "check"), ("review", "list"), ("review", "approve"), ("review", "reject"), ("users", "add"),
               ("actions", "list"), ("actions", "add"), ("actions", "update"), ("demo", "load"), ("demo", "clear"),
               ("tokens", "create"), ("tokens", "list"), ("tokens", "revoke"), ("judgements", "export")]


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _top_level_names(module: ast.Module) -> set[str]:
    """Functions, classes and assigned names (console, option aliases …) a module defines at its top level."""
    names: set[str] = set()
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return {n for n in names if not (n.startswith("__") and n.endswith("__"))}


def _help_commands(output: str) -> set[str]:
    """The command names a Rich ``--help`` page lists (a row starts with the name; wrapped text is indented)."""
    return set(re.findall(r"^│ ([a-z][a-z_-]*)\s", output, re.MULTILINE))


def test_no_helper_is_defined_in_two_cli_modules():
    where: dict[str, list[str]] = defaultdict(list)
    for path in CLI_MODULES:
        for name in _top_level_names(_tree(path)):
            where[name].append(path.relative_to(ROOT).as_posix())
    assert {name: places for name, places in where.items() if len(places) > 1} == {}


def _nested_functions(outer: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Functions defined inside ``outer`` (a class's own methods do not count; functions inside them do)."""
    allowed = set(map(id, outer.body)) if isinstance(outer, ast.ClassDef) else set()
    return [node for node in ast.walk(outer) if node is not outer and id(node) not in allowed
            and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def test_commands_are_plain_top_level_functions_without_nested_definitions():
    nested = [f"{path.name}:{inner.lineno} {inner.name}" for path in CLI_MODULES for outer in _tree(path).body
              if isinstance(outer, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
              for inner in _nested_functions(outer)]
    assert nested == []


def test_the_library_cli_never_imports_ui():
    imports = [f"{path.name}:{node.lineno}" for path in CLI_MODULES if path.parent.name == "cli"
               and path.parent.parent.name == "assistant" for node in ast.walk(_tree(path))
               if isinstance(node, ast.Import | ast.ImportFrom)
               and any(name == "ui" or name.startswith("ui.") for name in
                       ([node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]))]
    assert imports == []


def test_debrief_help_lists_every_command_and_the_library_app_all_but_serve():
    from assistant.cli import app
    from ui.cli import debrief_app

    done = CliRunner().invoke(debrief_app(), ["--help"], terminal_width=120)
    assert done.exit_code == 0, done.output
    assert _help_commands(done.output) == COMMANDS
    library = CliRunner().invoke(app, ["--help"], terminal_width=120)
    assert _help_commands(library.output) == COMMANDS - {"serve"}


@pytest.mark.parametrize("path", [(name,) for name in sorted(COMMANDS)] + SUBCOMMANDS, ids=" ".join)
def test_every_command_has_its_help(path):
    from ui.cli import debrief_app

    done = CliRunner().invoke(debrief_app(), [*path, "--help"], terminal_width=120)
    assert done.exit_code == 0, done.output
    assert "Usage:" in done.output
