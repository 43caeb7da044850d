"""The sparse half of the learning index: Danish BM25 over the same points as Chroma, kept in a SQLite file beside it.

Each approved point's stemmed terms and filter metadata are stored by learning-point id, written together with
Chroma (:class:`vectorstore.index.LearningIndex` does both), so the two hold the same ids. BM25 itself
(``bm25s``) is an in-memory matrix built from that file; a generation number bumped by every write tells each
process (app, worker) when its matrix is stale, and the next search rebuilds it (~1 s per 10k points).
Deleted rows are overwritten (``secure_delete``), so an erased case's words do not linger in the file.
Each row keeps a fingerprint of the text and metadata it was made from (:func:`source_hash`), and the file keeps
the Chroma write token it last matched, so a machine whose file another machine's writes left behind can tell
which rows to redo (:meth:`vectorstore.index.LearningIndex.catch_up_sparse`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import SimpleNamespace

import bm25s
import numpy as np

from vectorstore.danish import DanishAnalyser
from vectorstore.errors import IndexUnavailable
from vectorstore.schema import IndexedPoint, SearchFilters, int_to_date

# bm25s reports every index build at DEBUG; a rebuild after each approval would fill the app's log.
logging.getLogger("bm25s").setLevel(logging.INFO)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS points (id TEXT PRIMARY KEY, case_id TEXT NOT NULL, terms TEXT NOT NULL,
                                   metadata TEXT NOT NULL, source TEXT);
CREATE INDEX IF NOT EXISTS points_case ON points (case_id);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO state VALUES ('generation', 0);
"""


_SYNCED_KEY = "chroma_written"  # the Chroma write token this file last matched
_SYNCED_PREFIX = "w:"  # keeps the token a string in the integer-typed state column


def source_hash(text: str, metadata: dict) -> str:
    """Fingerprint of what a row was made from: a point's document and metadata as Chroma stores them."""
    canonical = json.dumps([text or "", metadata or {}], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _filterable(metadata: dict) -> SimpleNamespace:
    """What :meth:`SearchFilters.matches` reads, from stored metadata (dates as yyyymmdd integers)."""
    day = metadata.get("event_date")
    return SimpleNamespace(sector=metadata.get("sector", ""), unit=metadata.get("unit", ""),
                           category=metadata.get("category", ""), visibility=metadata.get("visibility", "staff"),
                           safety_ii=bool(metadata.get("safety_ii", False)),
                           event_date=int_to_date(int(day)) if day else None)


class _Matrix:
    """One build of BM25 over every stored point, with the ids and filter fields in row order."""

    def __init__(self, generation: int, rows: list[tuple[str, str, str, str]]) -> None:
        self.generation = generation
        self.ids = [row[0] for row in rows]
        self.case_ids = [row[1] for row in rows]
        self.filterable = [_filterable(json.loads(row[3])) for row in rows]
        self.bm25: bm25s.BM25 | None = None
        if rows:
            self.bm25 = bm25s.BM25()
            # An empty text still needs a row, so that row numbers stay aligned with ids.
            self.bm25.index([row[2].split() or [""] for row in rows], show_progress=False)

    def scores(self, terms: list[str]) -> np.ndarray:
        if self.bm25 is None or not terms:
            return np.zeros(len(self.ids), dtype=np.float32)
        return self.bm25.get_scores(terms)


class SparseIndex:
    """Danish BM25 search over learning points, persisted in one SQLite file and safe to share between processes."""

    def __init__(self, path: Path, analyser: DanishAnalyser) -> None:
        self.path = Path(path)
        self.analyser = analyser
        self._lock = threading.RLock()
        self._matrix: _Matrix | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as connection:
                connection.executescript(_SCHEMA)
                columns = {row[1] for row in connection.execute("PRAGMA table_info(points)")}
                if "source" not in columns:  # a file made before fingerprints: rows count as unknown
                    connection.execute("ALTER TABLE points ADD COLUMN source TEXT")
            connection.close()
        except (OSError, sqlite3.Error) as error:
            raise IndexUnavailable("index.unavailable", reason=str(error)) from error

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute("PRAGMA secure_delete = ON")
        return connection

    def _write(self, statements: Iterable[tuple[str, Sequence]]) -> None:
        with self._lock, self._connect() as connection:
            changed = 0
            for sql, params in statements:
                changed += connection.execute(sql, params).rowcount
            if changed:
                connection.execute("UPDATE state SET value = value + 1 WHERE key = 'generation'")
        connection.close()

    # -- writes -------------------------------------------------------------------------------------------

    def upsert(self, points: Sequence[IndexedPoint]) -> None:
        """Add or replace points by id (their terms are the analysed ``text``)."""
        self._write(("INSERT OR REPLACE INTO points VALUES (?, ?, ?, ?, ?)", self._row(p)) for p in points)

    def _row(self, point: IndexedPoint) -> tuple[str, str, str, str, str]:
        metadata = point.to_metadata()
        return (point.learning_point_id, point.case_id, " ".join(self.analyser.terms(point.text)),
                json.dumps(metadata, ensure_ascii=False), source_hash(point.text, metadata))

    def delete(self, ids: Iterable[str]) -> None:
        self._write(("DELETE FROM points WHERE id = ?", (pid,)) for pid in ids)

    def delete_case(self, case_id: str) -> None:
        self._write([("DELETE FROM points WHERE case_id = ?", (case_id,))])

    def reset(self) -> None:
        self._write([("DELETE FROM points", ())])

    # -- reads --------------------------------------------------------------------------------------------

    def count(self) -> int:
        with self._connect() as connection:
            found = connection.execute("SELECT count(*) FROM points").fetchone()[0]
        connection.close()
        return int(found)

    def ids(self) -> set[str]:
        with self._connect() as connection:
            found = {row[0] for row in connection.execute("SELECT id FROM points")}
        connection.close()
        return found

    def sources(self) -> dict[str, str | None]:
        """Each row's fingerprint by id (None for rows written before fingerprints)."""
        with self._connect() as connection:
            found = dict(connection.execute("SELECT id, source FROM points"))
        connection.close()
        return found

    def synced_to(self) -> str | None:
        """The Chroma write token this file last matched, None when it never recorded one."""
        with self._connect() as connection:
            row = connection.execute("SELECT value FROM state WHERE key = ?", (_SYNCED_KEY,)).fetchone()
        connection.close()
        return str(row[0]).removeprefix(_SYNCED_PREFIX) if row else None

    def mark_synced(self, token: str) -> None:
        with self._lock, self._connect() as connection:
            connection.execute("INSERT OR REPLACE INTO state VALUES (?, ?)", (_SYNCED_KEY, _SYNCED_PREFIX + token))
        connection.close()

    def _current(self) -> _Matrix:
        """The BM25 matrix, rebuilt when any process has written since it was built."""
        with self._lock:
            connection = self._connect()
            try:
                generation = connection.execute("SELECT value FROM state WHERE key = 'generation'").fetchone()[0]
                if self._matrix is None or self._matrix.generation != generation:
                    rows = connection.execute("SELECT id, case_id, terms, metadata FROM points ORDER BY id").fetchall()
                    self._matrix = _Matrix(generation, rows)
            finally:
                connection.close()
            return self._matrix

    def warm(self) -> None:
        """Build the matrix now (after a bulk load), so the first search does not pay for it."""
        self._current()

    def search(self, query: str, filters: SearchFilters | None = None, k: int = 100) -> list[tuple[str, float]]:
        """Up to ``k`` (id, BM25 score) pairs that pass ``filters``, best first; points sharing no term are left out."""
        matrix = self._current()
        scores = matrix.scores(self.analyser.query_terms(query))
        hits = np.flatnonzero(scores > 0)
        if not len(hits):
            return []
        # Sorting every matching row costs ~10 ms at 100k points: sort the best few first, the rest only when the
        # filters leave too few of those.
        first = min(len(hits), max(4 * k, 400))
        top = hits[np.argpartition(-scores[hits], first - 1)[:first]] if first < len(hits) else hits
        found: list[tuple[str, float]] = []
        for block in (top, np.setdiff1d(hits, top, assume_unique=True)):
            for row in block[np.argsort(-scores[block], kind="stable")]:
                if filters is None or filters.matches(matrix.filterable[row]):
                    found.append((matrix.ids[row], float(scores[row])))
                    if len(found) >= k:
                        return found
        return found

