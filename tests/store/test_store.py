"""The record store: migrations create exactly the tables the code uses, on a fresh SQLite file."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from assistant.settings import Settings
from assistant.store import open_database
from assistant.store.tables import Base


def test_a_fresh_database_is_created_and_migrated_on_first_use(settings):
    db = open_database(settings)
    assert (settings.data_dir / "debrief.db").exists()
    assert {"cases", "segments", "pseudonym_entries", "drafts", "learning_points", "jobs", "audit_events"} <= set(
        inspect(db.engine).get_table_names()
    )


def test_migrations_match_the_table_definitions(settings):
    db = open_database(settings)
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrading_twice_is_harmless(settings):
    db = open_database(settings)
    db.upgrade()
    db.upgrade()


def test_settings_come_from_environment_and_settings_file(tmp_path, monkeypatch):
    settings_file = tmp_path / "debrief.toml"
    settings_file.write_text('whisper_model = "large-v3"\nsimilarity_threshold = 0.9\n')
    monkeypatch.setenv("DEBRIEF_SETTINGS_FILE", str(settings_file))
    monkeypatch.setenv("DEBRIEF_SIMILARITY_THRESHOLD", "0.7")
    settings = Settings()
    assert settings.whisper_model == "large-v3"
    assert settings.similarity_threshold == 0.7  # the environment wins over the file
