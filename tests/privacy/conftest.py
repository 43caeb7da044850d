"""Fixtures of the pseudonymisation tests: one real pseudonymiser per module (it loads ~31,000 names)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.privacy import Pseudonymiser
from assistant.settings import Settings

SPEECH_SET = Path(__file__).resolve().parents[1] / "data" / "pseudonymisation_speech_da.jsonl"


@pytest.fixture(scope="module")
def pseudonymiser(tmp_path_factory: pytest.TempPathFactory) -> Pseudonymiser:
    cache = tmp_path_factory.mktemp("cache")
    return Pseudonymiser(Settings(data_dir=cache / "data", cache_dir=cache))


def masked(pseudonymiser: Pseudonymiser, text: str) -> str:
    """The text as the pseudonymiser leaves it."""
    return pseudonymiser.pseudonymise(text).text
