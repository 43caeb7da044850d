"""Everything a running Debrief (CLI, app, worker) shares: settings, record store, models, index, worker."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from assistant.jobs.components import Components
from assistant.settings import Settings, get_settings
from assistant.store import Database, open_database

if TYPE_CHECKING:
    from assistant.jobs.runner import Worker
    from vectorstore.index import LearningIndex


@dataclass
class Runtime:
    """Built once per process; heavy parts (models, index) load on first use."""

    settings: Settings
    db: Database
    components: Components
    _index: LearningIndex | None = None
    _worker: Worker | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def create(cls, settings: Settings | None = None, components: Components | None = None) -> Runtime:
        settings = settings or get_settings()
        return cls(settings=settings, db=open_database(settings), components=components or Components(settings))

    @property
    def index(self) -> LearningIndex:
        with self._lock:
            if self._index is None:
                from vectorstore.index import LearningIndex

                self._index = LearningIndex(self.settings)
            return self._index

    def start_worker(self) -> Worker:
        """Start the in-process worker (idempotent); uploads wake it."""
        from assistant.jobs.runner import Worker

        with self._lock:
            if self._worker is None:
                self._worker = Worker(self.db, self.components).start()
            return self._worker

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop(timeout=10)
