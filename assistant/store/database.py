"""Engine, sessions and migrations for the record store. The same code serves SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from assistant.settings import Settings
from assistant.store.numbering import DEFAULT_PREFIX, PREFIX_KEY, assign_references

MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config(url: str, reference_prefix: str = DEFAULT_PREFIX) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes[PREFIX_KEY] = reference_prefix  # the references migration 0006 gives existing cases
    return config


# Every session, however it was made, numbers the cases and points it inserts.
event.listen(Session, "before_flush", assign_references)


class Database:
    """A connection pool plus a session factory; ``session()`` commits on success, rolls back on error."""

    def __init__(self, url: str, reference_prefix: str = DEFAULT_PREFIX) -> None:
        self.url = url
        self.reference_prefix = reference_prefix
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict = {}
        if self.is_sqlite:
            # Several threads (UI, worker) share the file; wait for locks instead of failing at once.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        self.engine: Engine = create_engine(url, future=True, pool_pre_ping=True, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info={PREFIX_KEY: reference_prefix})

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: everything inside commits together or not at all."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to ``revision``, the newest migration by default (idempotent)."""
        with self.engine.begin() as connection:
            config = _alembic_config(self.url, self.reference_prefix)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_open: dict[str, Database] = {}


def open_database(settings: Settings, *, upgrade: bool = True) -> Database:
    """The store for ``settings``; the embedded SQLite file and its folder are created and migrated on first use."""
    url = settings.resolved_database_url
    if url in _open:
        return _open[url]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    database = Database(url, settings.reference_prefix)
    if upgrade:
        database.upgrade()
    _open[url] = database
    return database
