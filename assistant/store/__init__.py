"""The record store: the SQL source of truth (SQLite by default, PostgreSQL by URL)."""

from assistant.store.database import Database, open_database

__all__ = ["Database", "open_database"]
