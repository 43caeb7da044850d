"""Every third-party package the code imports is declared in pyproject.toml, so a fresh install can run it.

Imports guarded by ``try: … except ImportError`` (optional backends) may come from an optional extra; every other
import, at module level or inside a function, needs a distribution in ``[project] dependencies``.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("assistant", "ui", "vectorstore", "prompts", "guides")
# Optional backends whose packages are not installed here, so packages_distributions() cannot name them.
NOT_INSTALLED = {"whisper": "openai-whisper", "sentence_transformers": "sentence-transformers"}
GUARDS = {"ImportError", "ModuleNotFoundError"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(requirements: list[str]) -> set[str]:
    return {_normalise(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", req).group(0)) for req in requirements}


def _guarded(handlers: list[ast.ExceptHandler]) -> bool:
    names = set()
    for handler in handlers:
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        names |= {kind.id for kind in kinds if isinstance(kind, ast.Name)}
    return bool(names & GUARDS)


def _imports(tree: ast.AST, guarded: bool = False):
    """(top-level module, guarded by an ImportError handler, line) for every absolute import under ``tree``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name.split(".")[0], guarded, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], guarded, node.lineno
        elif isinstance(node, ast.Try) and _guarded(node.handlers):
            for child in node.body:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), True)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                yield from _imports(child, guarded)
        else:
            yield from _imports(node, guarded)


def test_every_imported_distribution_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = _requirement_names(project["dependencies"])
    extras = set().union(*(_requirement_names(reqs) for reqs in project.get("optional-dependencies", {}).values()))
    installed = packages_distributions()
    first_party = set(PACKAGES)
    missing = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for module, guarded, line in _imports(ast.parse(path.read_text(encoding="utf-8"))):
                if module in sys.stdlib_module_names or module in first_party or module == "__future__":
                    continue
                dists = {_normalise(d) for d in installed.get(module, [])}
                dists = dists or {_normalise(NOT_INSTALLED.get(module, module))}
                allowed = core | extras if guarded else core
                if not dists & allowed:
                    where = "an optional extra or [project] dependencies" if guarded else "[project] dependencies"
                    names = " / ".join(sorted(dists))
                    missing.append(f"{path.relative_to(ROOT)}:{line}: {module} ({names}) belongs in {where}")
    assert not missing, "imported but not declared in pyproject.toml:\n" + "\n".join(missing)
