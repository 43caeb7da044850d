"""The repository stands alone: no file cites the team's notes outside it, and every relative doc link resolves."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent.relative_to(ROOT).as_posix()
OUTSIDE_REFERENCES = ("MODELS.md", "../shared", "/work/shared")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _repository_files() -> list[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return sorted({name for name in listed.splitlines() if (ROOT / name).is_file()})


def _markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_no_file_cites_anything_outside_the_repository() -> None:
    found = []
    for name in _repository_files():
        if name.startswith(HERE + "/"):
            continue
        data = (ROOT / name).read_bytes()
        found += [f"{name}: {ref}" for ref in OUTSIDE_REFERENCES if ref.encode() in data]
    assert not found, "cite docs/models.md (or another file in the repository) instead of:\n" + "\n".join(found)


def test_relative_links_in_docs_resolve() -> None:
    broken = []
    for doc in _markdown_files():
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # a web address, mailto: or an anchor in the same page
            path = (doc.parent / target.split("#", 1)[0]).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert not broken, "relative links to missing files (or outside the repository):\n" + "\n".join(broken)
