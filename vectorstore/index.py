"""The learning index: approved, pseudonymised learning points in a Chroma collection, addressed by point id,
with a Danish BM25 index of the same points beside it (:mod:`vectorstore.sparse`), fused at query time.

It is derived data: the record store is the source of truth, every write is an idempotent upsert or delete
by learning-point id (to Chroma, then to the BM25 file), and :meth:`LearningIndex.reset` plus upserts rebuild it.
Embedded default is a ``PersistentClient`` folder; set ``chroma_url`` to use a Chroma server instead (same code).
The BM25 file is local to the machine (``sparse_path``). Every write also puts a new token in the collection's
metadata; a process that finds a token its file has not matched (another machine wrote to a shared Chroma server)
redoes the rows that differ before it searches (:meth:`LearningIndex.catch_up_sparse`).
A second collection (``<collection>-cases``) holds one vector per case and audience (all of its approved points
embedded together), kept by the same writes, for ranking similar cases (:meth:`LearningIndex.similar_cases`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings
from pydantic import BaseModel

import numpy as np

from vectorstore.danish import analyser, has_words, plain_text
from vectorstore.embeddings import ChromaEmbeddingAdapter, Embedder, LangChainEmbeddings, make_embedder
from vectorstore.errors import EmptyQuery, IndexUnavailable
from vectorstore.fusion import FusionWeights, Preferences, boosted, fuse, rank_cases, ranked
from vectorstore.options import IndexOptions, index_options
from vectorstore.schema import CaseMatch, Hit, IndexedPoint, SearchFilters
from vectorstore.sparse import SparseIndex, source_hash

log = logging.getLogger(__name__)

_EMBEDDING_KEY = "debrief_embedding_model"
_WRITTEN_KEY = "debrief_written"  # a new random token after every write of points, for other machines' BM25 files
_SYNC_BATCH = 5000
_SPARSE_CHECK_SECONDS = 2.0  # how stale another machine's write may leave this machine's word search


def make_client(options: IndexOptions) -> Any:
    """A Chroma server client when ``chroma_url`` is set, else a local folder; telemetry always off."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if options.chroma_url:
            url = urlparse(options.chroma_url if "://" in options.chroma_url else f"http://{options.chroma_url}")
            ssl = url.scheme == "https"
            return chromadb.HttpClient(host=url.hostname or "localhost", port=url.port or (443 if ssl else 8000),
                                       ssl=ssl, settings=chroma_settings)
        options.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(options.chroma_path), settings=chroma_settings)
    except Exception as error:  # noqa: BLE001 - connection and folder errors alike mean "index unavailable"
        raise IndexUnavailable("index.unavailable", reason=str(error)) from error


def _score(distance: float) -> float:
    """Cosine distance → cosine similarity, clipped to [0, 1] (opposite directions count as unrelated)."""
    return min(1.0, max(0.0, 1.0 - float(distance)))


# Chroma keeps each write's document in its log (embeddings_queue) until the HNSW segment syncs, by default 1,000
# writes later, so an erased case's text would linger there. Syncing on every write purges the log at once; bulk
# upserts keep their speed and a single approval costs ~34 ms instead of ~8 ms at 30k points (measured).
_WRITE_THROUGH = {"batch_size": 1, "sync_threshold": 1}
_LOCKED_WAITS = (0.2, 0.5, 1.0, 2.0)  # seconds between opens of an index folder another client is writing
# e5 reads at most 512 tokens; a 5,000-word description is cut here rather than tokenised in full.
_DENSE_QUERY_CHARS = 2000
# A case's vector is embedded from at most this much of its points' text (~512 e5 tokens), shared among the points.
_CASE_TEXT_CHARS = 2000
# Audiences of a case vector: "staff" from all of a case's points, "public" from its public points only, so that
# a public search is never ranked by words only staff may read.
_AUDIENCES = ("staff", "public")


def _case_vector_id(case_id: str, audience: str) -> str:
    return f"{case_id}::{audience}"


def _audience(filters: SearchFilters | None) -> str:
    """Which case vectors a search may use: public ones unless the filters let staff points through."""
    return "public" if filters and filters.visibility and "staff" not in filters.visibility else "staff"


def case_text(points: Sequence[tuple[str, str]], limit: int = _CASE_TEXT_CHARS) -> str:
    """The text a case vector is embedded from: its points' texts in (reference, id) order, each cut to an even
    share of ``limit`` so that a long first point does not crowd out the others. ``points``: (sort key, text)."""
    if not points:
        return ""
    share = max(200, limit // len(points))
    return "\n\n".join(text[:share] for _, text in sorted(points))[:limit]


class Candidates(BaseModel):
    """What each half of the index ranks for one question, before fusion (the evaluation fuses these itself)."""

    dense: list[Hit]
    sparse: list[str]


class LearningIndex:
    """Filtered similarity search over approved learning points, with writes by id that are safe to repeat."""

    def __init__(self, options: Any, embedder: Embedder | None = None, client: Any = None) -> None:
        """``options``: :class:`IndexOptions`, or an object with ``index_options()`` (Debrief's settings)."""
        self.options = index_options(options)
        self.embedder = embedder or make_embedder(self.options.embedding)
        self._client = client or make_client(self.options)
        self._embedding_function = ChromaEmbeddingAdapter(self.embedder)
        self._lock = threading.RLock()
        self._collection = self._open()
        self._cases = self._open(self.cases_collection)
        # A bad synonym line fails here, at start, naming the file and the line.
        self.sparse = SparseIndex(self.options.resolved_sparse_path, analyser(self.options.synonyms_file))
        self._written_checked_at = float("-inf")
        self.sync_sparse()
        self.catch_up_sparse()
        if self._cases.count() == 0 and self.count() > 0:
            self.sync_cases()  # an index made before case vectors existed

    @property
    def cases_collection(self) -> str:
        """Name of the collection of case vectors, beside the points' own."""
        return f"{self.options.collection}-cases"

    # -- collection ---------------------------------------------------------------------------------------

    def _open(self, name: str | None = None) -> Any:
        """The collection, made on first use. Chroma's SQLite answers "database is locked" while another client of
        the same folder (a second Debrief process, or a restore's rebuild just finished in this one) is writing:
        that passes, so the open is tried again for a few seconds before the index counts as unavailable."""
        for wait in (*_LOCKED_WAITS, None):
            try:
                return self._open_once(name)
            except IndexUnavailable as error:
                if wait is None or "database is locked" not in str(error.params.get("reason", "")):
                    raise
                log.info("index folder busy (%s); opening again in %.1f s", error.params.get("reason"), wait)
                time.sleep(wait)
        raise AssertionError("unreachable")

    def _open_once(self, name: str | None = None) -> Any:
        try:
            collection = self._client.get_or_create_collection(
                name=name or self.options.collection,
                embedding_function=self._embedding_function,
                configuration={"hnsw": {"space": "cosine", **_WRITE_THROUGH}},
                metadata={_EMBEDDING_KEY: self.embedder.model_id},
            )
            hnsw = (collection.configuration or {}).get("hnsw") or {}
            if any(hnsw.get(key) != value for key, value in _WRITE_THROUGH.items()):
                collection.modify(configuration={"hnsw": _WRITE_THROUGH})  # collections made before this setting
        except Exception as error:  # noqa: BLE001
            raise IndexUnavailable("index.unavailable", reason=str(error)) from error
        return collection

    def _checked(self, collection: Any = None) -> Any:
        """The collection, refusing to mix vectors from two embedding models (rebuild after switching)."""
        collection = self._collection if collection is None else collection
        indexed = (collection.metadata or {}).get(_EMBEDDING_KEY)
        if indexed and indexed != self.embedder.model_id:
            raise IndexUnavailable("index.embedding_mismatch", indexed=indexed, configured=self.embedder.model_id)
        return collection

    def reset(self) -> None:
        """Empty the index before a rebuild from the record store; also adopts a newly configured embedder."""
        with self._lock:
            indexed = (self._collection.metadata or {}).get(_EMBEDDING_KEY)
            if indexed in (None, self.embedder.model_id):
                # Emptying (rather than dropping) keeps the collection valid for other processes holding it.
                for collection in (self._collection, self._cases):
                    for _ in range(collection.count() // 1000 + 1):
                        ids = collection.get(include=[], limit=1000)["ids"]
                        if not ids:
                            break
                        collection.delete(ids=ids)
                self.sparse.reset()
                self._stamp_written()
                return
            for name in (self.options.collection, self.cases_collection):
                try:
                    self._client.delete_collection(name)
                except Exception:  # noqa: BLE001 - already gone is fine: reset is idempotent
                    pass
            self._collection = self._open()
            self._cases = self._open(self.cases_collection)
            self.sparse.reset()
            self._stamp_written()

    # -- writes -------------------------------------------------------------------------------------------

    def upsert(self, points: Sequence[IndexedPoint]) -> None:
        """Add or replace points by learning-point id; repeating it changes nothing."""
        latest = {p.learning_point_id: p for p in points}  # one id twice in a batch: the last one wins
        if not latest:
            return
        items = list(latest.values())
        with self._lock:
            collection = self._checked()
            batch = max(1, min(256, self._max_batch()))
            for start in range(0, len(items), batch):
                chunk = items[start : start + batch]
                collection.upsert(
                    ids=[p.learning_point_id for p in chunk],
                    documents=[p.text for p in chunk],
                    metadatas=[p.to_metadata() for p in chunk],
                    embeddings=self.embedder.embed_passages([p.text for p in chunk]),
                )
            self.sparse.upsert(items)
            self._refresh_cases({p.case_id for p in items})
            self._stamp_written()

    def delete(self, ids: Iterable[str]) -> None:
        """Remove points by id; ids that are not there are ignored."""
        ids = sorted(set(ids))
        if not ids:
            return
        with self._lock:
            got = self._collection.get(ids=ids, include=["metadatas"])
            cases = {str((meta or {}).get("case_id", "")) for meta in got["metadatas"]} - {""}
            self._collection.delete(ids=ids)
            self.sparse.delete(ids)
            self._refresh_cases(cases)
            self._stamp_written()

    def delete_case(self, case_id: str) -> None:
        """Remove every point of one case (erasure, or a case withdrawn), and its case vectors."""
        with self._lock:
            self._collection.delete(where={"case_id": case_id})
            self._cases.delete(where={"case_id": case_id})
            self.sparse.delete_case(case_id)
            self._stamp_written()

    def _refresh_cases(self, case_ids: Iterable[str]) -> None:
        """Re-embed the vectors of these cases from the points the index now holds (none left: vectors removed).
        Embedded as a question ("query:" for e5): case against case is a symmetric comparison, and the
        dev part of the real set ranked slightly better that way than with "passage:"."""
        case_ids = sorted(set(case_ids))
        cases = self._checked(self._cases)
        for start in range(0, len(case_ids), 100):
            chunk = case_ids[start : start + 100]
            got = self._collection.get(where={"case_id": {"$in": chunk}}, include=["documents", "metadatas"])
            texts: dict[str, dict[str, list[tuple[str, str]]]] = {c: {a: [] for a in _AUDIENCES} for c in chunk}
            for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                meta = meta or {}
                entry = (f"{meta.get('reference', '')}\t{pid}", doc or "")
                texts[str(meta.get("case_id"))]["staff"].append(entry)
                if meta.get("visibility") == "public":
                    texts[str(meta.get("case_id"))]["public"].append(entry)
            keep: dict[str, tuple[str, str, str]] = {}  # vector id → case id, audience, text
            gone = []
            for case_id in chunk:
                for audience in _AUDIENCES:
                    text = case_text(texts[case_id][audience])
                    if text:
                        keep[_case_vector_id(case_id, audience)] = (case_id, audience, text)
                    else:
                        gone.append(_case_vector_id(case_id, audience))
            if gone:
                cases.delete(ids=gone)
            if keep:
                unique = list(dict.fromkeys(text for _, _, text in keep.values()))
                vectors = dict(zip(unique, self.embedder.embed_queries(unique)))
                cases.upsert(ids=list(keep), embeddings=[vectors[text] for _, _, text in keep.values()],
                             metadatas=[{"case_id": c, "audience": a, "points": len(texts[c][a])}
                                        for c, a, _ in keep.values()])

    def sync_cases(self) -> int:
        """Make the case vectors match the points (after an upgrade, or a crash between two writes); returns how
        many cases were re-embedded or dropped."""
        with self._lock:
            indexed = {str((m or {}).get("case_id")) for m in self._collection.get(include=["metadatas"])["metadatas"]}
            vectors = {str((m or {}).get("case_id")) for m in self._cases.get(include=["metadatas"])["metadatas"]}
            todo = (indexed - vectors) | (vectors - indexed)
            self._refresh_cases(todo)
            return len(todo)

    def sync_sparse(self) -> int:
        """Make the BM25 file hold exactly Chroma's ids (after an upgrade, a crash between the two writes, or a
        Chroma server filled from another machine); returns how many ids were added or removed."""
        with self._lock:
            if self.sparse.count() == self.count() and self.sparse.count() == 0:
                return 0
            indexed, sparse = self.ids(), self.sparse.ids()
            if indexed == sparse:
                return 0
            self.sparse.delete(sparse - indexed)
            missing = sorted(indexed - sparse)
            self._copy_to_sparse(missing)
            return len(sparse - indexed) + len(missing)

    def _copy_to_sparse(self, ids: Sequence[str]) -> None:
        """(Re)write these points' BM25 rows from what Chroma holds, a thousand at a time."""
        for start in range(0, len(ids), 1000):
            self.sparse.upsert(self.get(ids[start : start + 1000]))

    def _written_token(self) -> str | None:
        """The collection's current write token, read fresh (another machine may have written since it was opened)."""
        fresh = self._client.get_collection(name=self.options.collection, embedding_function=self._embedding_function)
        return (fresh.metadata or {}).get(_WRITTEN_KEY)

    def _stamp_written(self) -> None:
        """Mark a write of points with a new token in the collection's metadata, after the data is written, so a
        machine that sees the token also sees the data. This process's BM25 file already holds the write; it
        records the token only if it matched the one before, else a missed write from elsewhere stays noticed."""
        before = self._written_token()
        token = uuid.uuid4().hex
        self._collection.modify(metadata={**(self._collection.metadata or {}), _WRITTEN_KEY: token})
        if before == self.sparse.synced_to():
            self.sparse.mark_synced(token)

    def catch_up_sparse(self, every: float = 0.0) -> int:
        """Bring this machine's BM25 file in line with Chroma when another machine has written to it (a Chroma
        server shared by several app machines, or ``debrief index rebuild`` / an erasure run elsewhere): rows
        whose text or metadata differ are redone, rows Chroma no longer has are deleted. Cheap when nothing
        changed: one read of the collection's metadata, at most once per ``every`` seconds. Returns rows changed."""
        now = time.monotonic()
        if now - self._written_checked_at < every:
            return 0
        self._written_checked_at = now
        token = self._written_token()
        if token is None or token == self.sparse.synced_to():
            return 0
        with self._lock:
            indexed: dict[str, str] = {}
            for offset in range(0, self.count() + _SYNC_BATCH, _SYNC_BATCH):
                got = self._collection.get(include=["documents", "metadatas"], limit=_SYNC_BATCH, offset=offset)
                if not got["ids"]:
                    break
                indexed.update({pid: source_hash(doc or "", dict(meta or {}))
                                for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])})
            stored = self.sparse.sources()
            gone = sorted(set(stored) - set(indexed))
            stale = sorted(pid for pid, source in indexed.items() if stored.get(pid) != source)
            self.sparse.delete(gone)
            self._copy_to_sparse(stale)
            self.sparse.mark_synced(token)
        if gone or stale:
            log.info("word index caught up with writes from elsewhere: %d rows redone, %d removed", len(stale),
                     len(gone))
        return len(gone) + len(stale)

    def _max_batch(self) -> int:
        try:
            return int(self._client.get_max_batch_size())
        except Exception:  # noqa: BLE001 - older servers do not say; Chroma's floor is far above ours
            return 256

    # -- reads --------------------------------------------------------------------------------------------

    def count(self) -> int:
        return self._collection.count()

    def ids(self) -> set[str]:
        return set(self._collection.get(include=[])["ids"])

    def metadata_by_id(self) -> dict[str, dict[str, Any]]:
        """Every entry's stored metadata (equal to ``IndexedPoint.to_metadata()``), for store/index checks."""
        got = self._collection.get(include=["metadatas"])
        return {point_id: dict(meta or {}) for point_id, meta in zip(got["ids"], got["metadatas"])}

    def get(self, ids: Sequence[str]) -> list[IndexedPoint]:
        """The indexed points with these ids, in the order asked; missing ids are left out."""
        if not ids:
            return []
        got = self._collection.get(ids=list(dict.fromkeys(ids)), include=["documents", "metadatas"])
        found = {pid: IndexedPoint.from_chroma(pid, doc, meta)
                 for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])}
        return [found[pid] for pid in ids if pid in found]

    def stored_vectors(self, ids: Sequence[str]) -> dict[str, tuple[str, list[float]]]:
        """Document and vector of each indexed id (missing ids left out), so other analyses need not re-embed."""
        if not ids:
            return {}
        got = self._checked().get(ids=list(dict.fromkeys(ids)), include=["documents", "embeddings"])
        return {pid: (doc, list(vec)) for pid, doc, vec in zip(got["ids"], got["documents"], got["embeddings"])}

    @staticmethod
    def _query(collection: Any, vector: list[float], k: int, where: dict[str, Any] | None) -> list[Hit]:
        if k < 1:
            return []
        found = collection.query(
            query_embeddings=[vector],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            Hit(**IndexedPoint.from_chroma(pid, doc, meta).model_dump(), score=_score(dist), rank=rank)
            for rank, (pid, doc, meta, dist) in enumerate(
                zip(found["ids"][0], found["documents"][0], found["metadatas"][0], found["distances"][0]), start=1
            )
        ]

    def _dense(self, collection: Any, vector: list[float], filters: SearchFilters | None, k: int,
               need: int | None = None) -> list[Hit]:
        """Up to ``k`` nearest points by e5 cosine that pass ``filters``; with ``need``, fewer than ``k`` are fine as
        long as ``need`` pass (fusion wants depth, but not at the price of Chroma's slow filtered scan)."""
        need = k if need is None else min(need, k)
        where = filters.to_where() if filters else None
        if where is None:
            return self._query(collection, vector, k, None)
        # HNSW search stays fast at any size, while Chroma's filtered search scans every matching id. Points that
        # pass the filter and are nearer than the k-th kept one are all inside the unfiltered pool, so the result
        # is the same whenever k of the pool pass (or the pool is the whole collection).
        size = collection.count()
        pool = self._query(collection, vector, min(max(self.options.search_pool, k), size), None)
        kept = [hit for hit in pool if filters.matches(hit)][:k]
        if len(kept) >= need or len(pool) >= size:
            return [hit.model_copy(update={"rank": rank}) for rank, hit in enumerate(kept, start=1)]
        return self._query(collection, vector, k, where)

    def candidates(self, query: str, filters: SearchFilters | None = None, depth: int | None = None,
                   need: int | None = None) -> tuple[Candidates, np.ndarray]:
        """Both rankings for ``query`` (dense hits with cosine, sparse ids) and the query vector."""
        text = plain_text(query)
        if not has_words(text):
            raise EmptyQuery()
        depth = depth or self.options.fusion_depth
        collection = self._checked()
        if self.options.search_method != "dense":
            self.catch_up_sparse(every=_SPARSE_CHECK_SECONDS)
        vector = self.embedder.embed_queries([text[:_DENSE_QUERY_CHARS]])[0]
        dense = self._dense(collection, vector, filters, depth, need)
        sparse = [] if self.options.search_method == "dense" else [
            pid for pid, _ in self.sparse.search(text, filters, depth)]
        return Candidates(dense=dense, sparse=sparse), np.asarray(vector, dtype=np.float32)

    def fused(self, found: Candidates, vector: np.ndarray, k: int, preferences: Preferences | None = None,
              weights: FusionWeights | None = None) -> list[Hit]:
        """The best ``k`` of both rankings fused, as hits scored by cosine (ranks follow the fusion)."""
        weights = weights or self.options.fusion
        if self.options.search_method == "dense" and preferences is None:
            return [h.model_copy(update={"rank": r}) for r, h in enumerate(found.dense[:k], start=1)]
        known = {h.learning_point_id: h for h in found.dense}
        missing = [pid for pid in found.sparse if pid not in known]
        if missing:
            known.update(self._hits_by_id(missing, vector))
        scores = fuse([h.learning_point_id for h in found.dense], [p for p in found.sparse if p in known], weights)
        scores = boosted(scores, lambda pid: (known[pid].sector, known[pid].category), preferences, weights)
        return [known[pid].model_copy(update={"rank": rank, "relevance": round(scores[pid], 6)})
                for rank, pid in enumerate(ranked(scores)[:k], start=1)]

    def _hits_by_id(self, ids: list[str], vector: np.ndarray) -> dict[str, Hit]:
        """Points the dense ranking did not reach, with their cosine to the question from their stored vectors."""
        got = self._collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        out = {}
        for pid, doc, meta, emb in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"]):
            cosine = float(np.dot(np.asarray(emb, dtype=np.float32), vector))
            out[pid] = Hit(**IndexedPoint.from_chroma(pid, doc, meta).model_dump(), score=_score(1.0 - cosine), rank=1)
        return out

    def search(self, query: str, filters: SearchFilters | None = None, k: int = 5,
               preferences: Preferences | None = None) -> list[Hit]:
        """The ``k`` points most like ``query`` that pass ``filters``, best first (meaning and Danish words fused;
        ``preferences`` move preferred sectors or categories up), scored by cosine similarity."""
        if not has_words(query or ""):
            raise EmptyQuery()
        if k < 1:
            return []
        found, vector = self.candidates(query, filters, max(k, self.options.fusion_depth), need=k)
        return self.fused(found, vector, k, preferences)

    def case_cosines(self, case_ids: Sequence[str], vector: np.ndarray, audience: str = "staff") -> dict[str, float]:
        """Cosine of the question ``vector`` with each case's vector for ``audience`` (cases without one left out):
        a look-up by id of the few candidate cases, so its cost does not grow with the index."""
        if not case_ids:
            return {}
        got = self._checked(self._cases).get(ids=[_case_vector_id(c, audience) for c in dict.fromkeys(case_ids)],
                                             include=["embeddings"])
        return {vector_id.rsplit("::", 1)[0]: float(np.dot(np.asarray(emb, dtype=np.float32), vector))
                for vector_id, emb in zip(got["ids"], got["embeddings"])}

    def rank_cases(self, hits: Sequence[Hit], vector: np.ndarray, filters: SearchFilters | None = None,
                   weights: FusionWeights | None = None) -> list[CaseMatch]:
        """The cases of ``hits`` (fused points), best first: by their points (best plus a share of the second),
        fused with their case vectors' cosine to the question (:func:`vectorstore.fusion.rank_cases`)."""
        weights = weights or self.options.fusion
        relevance = {h.learning_point_id: h.relevance or 1.0 / (weights.rrf_k + h.rank) for h in hits}
        case_of = {h.learning_point_id: h.case_id for h in hits}
        cosines = (self.case_cosines(sorted(set(case_of.values())), vector, _audience(filters))
                   if weights.case_vector > 0 else {})
        points: dict[str, list[Hit]] = {}
        for hit in hits:
            points.setdefault(hit.case_id, []).append(hit)
        return [CaseMatch(case_id=case_id, rank=rank, score=max(h.score for h in points[case_id]),
                          points=points[case_id])
                for rank, case_id in enumerate(rank_cases(relevance, case_of.__getitem__, cosines, weights), start=1)]

    def similar_cases(self, query: str, filters: SearchFilters | None = None, k: int = 5,
                      preferences: Preferences | None = None) -> list[CaseMatch]:
        """The ``k`` cases most like ``query``: each case's matching approved points together, ranked by its points
        and by the whole case's vector (:meth:`rank_cases`)."""
        return self.similar_points_and_cases(query, filters, k, preferences)[1]

    def similar_points_and_cases(self, query: str, filters: SearchFilters | None = None, k: int = 5,
                                 preferences: Preferences | None = None) -> tuple[list[Hit], list[CaseMatch]]:
        """The ``k`` best points and the ``k`` best cases for ``query``, from one embedding and one candidate pool:
        what a person asking "have we seen this before?" is shown, points to cite and cases to open."""
        if not has_words(query or ""):
            raise EmptyQuery()
        if k < 1:
            return [], []
        depth = max(4 * k, self.options.fusion_depth)
        # need=k, as in search(): a rare filter must not turn into Chroma's slow filtered scan for depth's sake.
        found, vector = self.candidates(query, filters, depth, need=k)
        hits = self.fused(found, vector, depth, preferences)
        return hits[:k], self.rank_cases(hits, vector, filters)[:k]

    def similar(self, query: str, filters: SearchFilters | None = None, k: int = 5,
                threshold: float | None = None) -> tuple[list[Hit], bool]:
        """Search, and say whether nothing is similar enough (best score below the threshold) to show as such."""
        hits = self.search(query, filters, k)
        return hits, self.nothing_similar(hits, threshold)

    def nothing_similar(self, hits: Sequence[Hit], threshold: float | None = None) -> bool:
        """Whether ``hits`` should be shown as "nothing similar": none, or the best below the threshold
        (``similarity_threshold`` unless given)."""
        threshold = self.options.similarity_threshold if threshold is None else threshold
        return not hits or max(h.score for h in hits) < threshold

    # -- LangChain ----------------------------------------------------------------------------------------

    def as_langchain(self) -> Any:
        """A ``langchain_chroma.Chroma`` over the same collection and embedder (filters: ``SearchFilters.to_where``)."""
        from langchain_chroma import Chroma

        return Chroma(client=self._client, collection_name=self.options.collection,
                      embedding_function=LangChainEmbeddings(self.embedder))
