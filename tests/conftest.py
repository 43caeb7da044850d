"""Shared fixtures: every test gets its own data folder; assembled models are shared across the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.settings import Settings, get_settings

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--skip-real-llm",
        action="store_true",
        default=False,
        help="Skip tests that run the real embedded LLM (only on explicit request; never skipped silently).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_llm: runs the real embedded LLM (skip only with --skip-real-llm)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--skip-real-llm"):
        return
    skip = pytest.mark.skip(reason="real LLM tests skipped by explicit --skip-real-llm")
    for item in items:
        if "real_llm" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for one test: a fresh data folder, the user's model cache (assembled once, reused)."""
    return Settings(data_dir=tmp_path / "data", cpu_threads=2)


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    """``debrief …`` on the test's data folder; returns the finished run."""
    from typer.testing import CliRunner

    from assistant.cli import app

    monkeypatch.setenv("DEBRIEF_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, list(args), catch_exceptions=False)
    get_settings.cache_clear()


@pytest.fixture
def db(settings: Settings):
    """The test's own record store (SQLite in its data folder, migrated)."""
    from assistant.store import open_database

    return open_database(settings)


@pytest.fixture
def index(settings: Settings):
    """The test's own learning index: a real Chroma collection with the bundled e5 embeddings."""
    from vectorstore.index import LearningIndex

    return LearningIndex(settings)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave screenshots and reports for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
