"""Every setting is described, docs/settings.md is what the generator makes, and the docs name only real settings."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.settings import Settings
from assistant.settings_reference import SETTINGS_DOC, env_name, render_settings_reference, setting_groups

ROOT = Path(__file__).resolve().parents[2]
# Read before the settings exist: by run.sh (which virtualenv) and by the settings loader (which TOML file).
NOT_SETTINGS_BUT_READ = {"DEBRIEF_SETTINGS_FILE", "DEBRIEF_VENV"}


def test_every_setting_has_a_one_line_description() -> None:
    missing = [name for name, info in Settings.model_fields.items() if not (info.description or "").strip()]
    assert not missing, f"settings without Field(description=...) in assistant/settings.py: {missing}"
    multi_line = [name for name, info in Settings.model_fields.items() if "\n" in (info.description or "")]
    assert not multi_line, f"descriptions must be one line: {multi_line}"


def test_every_setting_sits_under_a_heading() -> None:
    grouped = [name for names in setting_groups().values() for name in names]
    assert sorted(grouped) == sorted(Settings.model_fields), "a setting is missing from (or twice in) the groups"


def test_settings_doc_is_current() -> None:
    current = (ROOT / SETTINGS_DOC).read_text(encoding="utf-8") if (ROOT / SETTINGS_DOC).is_file() else ""
    assert current == render_settings_reference(), f"{SETTINGS_DOC} is out of date: run python scripts/update_docs.py"


def test_docs_name_only_real_settings() -> None:
    known = {env_name(name) for name in Settings.model_fields} | NOT_SETTINGS_BUT_READ
    unknown = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name in re.findall(r"DEBRIEF_[A-Z0-9_]*[A-Z0-9]", line):
                if name not in known:
                    unknown.append(f"{path.relative_to(ROOT)}:{number}: {name}")
    assert not unknown, "these DEBRIEF_ variables are not settings (assistant/settings.py):\n" + "\n".join(unknown)
