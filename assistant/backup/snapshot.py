"""One consistent copy of the record store, and loading it back: SQLite's online backup API, or ``pg_dump`` and
``pg_restore`` for PostgreSQL. What the copy holds (counts, audit chain, recordings) is read from that very
snapshot, never from the live store a moment later."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import Connection, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from assistant.audit import audit_chain
from assistant.backup.manifest import StoreState
from assistant.errors import BackupRefused
from assistant.store import Database
from assistant.store.tables import AudioFile, Base, LearningPoint


class LiveRecording(BaseModel):
    """A kept recording the snapshot lists as not yet deleted."""

    stored_name: str


class Snapshot(BaseModel):
    """The store's copy on disk and what it holds."""

    path: Path
    state: StoreState
    recordings: list[LiveRecording]


def read_state(connection: Connection, dialect: str) -> tuple[StoreState, list[LiveRecording]]:
    """Counts, audit chain, schema revision and live recordings, all read through ``connection``."""
    tables = inspect(connection).get_table_names()
    counts = {
        table.name: connection.scalar(select(func.count()).select_from(table))
        for table in Base.metadata.sorted_tables if table.name in tables
    }
    revision = connection.scalar(text("SELECT version_num FROM alembic_version")) if "alembic_version" in tables \
        else None
    events, chain = audit_chain(connection)
    approved = connection.scalar(select(func.count()).select_from(LearningPoint).where(
        LearningPoint.status == "approved"))
    recordings = [LiveRecording(stored_name=name) for name in connection.scalars(
        select(AudioFile.stored_name).where(AudioFile.deleted_at.is_(None)).order_by(AudioFile.stored_name))]
    state = StoreState(dialect=dialect, schema_revision=revision, counts=counts, approved_points=approved,
                       audit_events=events, audit_chain=chain)
    return state, recordings


def snapshot_store(db: Database, folder: Path) -> Snapshot:
    """Copy the store into ``folder`` as it is at one instant, while the app and workers keep writing."""
    if db.is_sqlite:
        return _sqlite_snapshot(db, folder / "debrief.db")
    return _postgres_snapshot(db, folder / "debrief.pgdump")


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///…`` URL."""
    return Path(make_url(url).database or "")


def _sqlite_snapshot(db: Database, target: Path) -> Snapshot:
    source = sqlite3.connect(sqlite_path(db.url), timeout=30)
    copy = sqlite3.connect(target)
    try:
        # One step (pages=-1) copies every page under a single read transaction: a snapshot, WAL included,
        # while other connections go on writing.
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        copy.close()
        source.close()
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            state, recordings = read_state(connection, "sqlite")
    finally:
        engine.dispose()
    return Snapshot(path=target, state=state, recordings=recordings)


def _postgres_snapshot(db: Database, target: Path) -> Snapshot:
    # pg_dump joins a snapshot this transaction exports, so the dump and what we count are the same instant.
    connection = db.engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with connection, connection.begin():
        snapshot_id = connection.scalar(text("SELECT pg_export_snapshot()"))
        state, recordings = read_state(connection, "postgresql")
        _run_pg_tool("pg_dump", db.url, ["--format=custom", "--no-owner", "--no-privileges",
                                         f"--snapshot={snapshot_id}", f"--file={target}"])
    return Snapshot(path=target, state=state, recordings=recordings)


def store_is_empty(url: str) -> bool:
    """Whether the store at ``url`` holds nothing yet (no file, or no tables)."""
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        return not path.exists() or path.stat().st_size == 0
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return not inspect(connection).get_table_names()
    finally:
        engine.dispose()


def load_store(copy: Path, url: str) -> None:
    """Put a snapshot in place as the (empty) store at ``url``."""
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(copy, path)
        return
    _run_pg_tool("pg_restore", url, ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                                     str(copy)])


def _run_pg_tool(tool: str, url: str, args: list[str]) -> None:
    program = shutil.which(tool)
    if program is None:
        raise BackupRefused("backup.tool_missing", tool=tool)
    parts = make_url(url)
    connection = [f"--host={parts.host or 'localhost'}", f"--port={parts.port or 5432}",
                  f"--dbname={parts.database}"]
    if parts.username:
        connection.append(f"--username={parts.username}")
    env = None
    if parts.password:
        # The password goes to the tool through its environment, never on its command line (visible in ps).
        env = {**os.environ, "PGPASSWORD": str(parts.password)}
    done = subprocess.run([program, "--no-password", *connection, *args], env=env, capture_output=True, text=True,
                          timeout=3600, check=False)
    if done.returncode != 0:
        raise BackupRefused("backup.tool_failed", tool=tool, reason=done.stderr.strip()[-500:])
