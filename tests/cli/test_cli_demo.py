"""`debrief demo load` and `debrief demo clear` from the shell, with the real pseudonymiser and index (no LLM)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from assistant.i18n import translate
from assistant.settings import get_settings


@pytest.fixture
def debrief(settings, monkeypatch):
    monkeypatch.setenv("DEBRIEF_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DEBRIEF_UI_LANGUAGE", "da")
    get_settings.cache_clear()
    from assistant.cli import app

    def run(*args: str):
        return CliRunner().invoke(app, list(args), catch_exceptions=False)

    yield run
    get_settings.cache_clear()


def test_demo_load_prints_receipts_refuses_a_second_load_and_clear_removes_it(debrief):
    loaded = debrief("demo", "load")
    assert loaded.exit_code == 0, loaded.output
    receipts = re.findall(r"^\s+(\S+)\s+(awaiting_review|in_review|decided)\s", loaded.stdout, re.M)
    assert len(receipts) == 11 and {status for _, status in receipts} == {"awaiting_review", "in_review", "decided"}

    again = debrief("demo", "load")
    assert again.exit_code == 2
    assert translate("onboarding.demo_loaded_already", "da") in " ".join(again.output.split())

    cleared = debrief("demo", "clear")
    assert cleared.exit_code == 0
    assert translate("onboarding.demo_cleared", "da", count=11) in " ".join(cleared.output.split())
    assert translate("onboarding.demo_none", "da") in debrief("demo", "clear").output
