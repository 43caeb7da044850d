"""Retrieval quality on the synthetic set: recall@k, MRR and nDCG@10 for dense, plain BM25, their RRF, and the
product's own search (Danish BM25 fused with e5) on the same queries."""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

import bm25s

from assistant.evaluation.metrics import mean_reciprocal_rank, ndcg_at_k, recall_at_k
from assistant.settings import Settings
from vectorstore.index import LearningIndex
from vectorstore.schema import IndexedPoint

RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al. 2009)
DEPTH = 20


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text("utf-8").splitlines() if line.strip()]


def point_text(record: dict) -> str:
    """The searchable text as the app composes it: title, what happened, factors, what went well, actions."""
    parts = [record["title"], record["what_happened"]]
    if record.get("contributing_factors"):
        parts.append("Bidragende faktorer: " + "; ".join(record["contributing_factors"]))
    if record.get("what_went_well"):
        parts.append("Det gik godt: " + "; ".join(record["what_went_well"]))
    if record.get("suggested_actions"):
        parts.append("Handlinger: " + "; ".join(str(a) for a in record["suggested_actions"]))
    return "\n".join(parts)


def load_points(path: Path) -> list[IndexedPoint]:
    """Learning points from JSONL (one point per line, the index schema plus the text fields)."""
    return [IndexedPoint(text=r.get("text") or point_text(r), **{k: v for k, v in r.items()
                                                                 if k in IndexedPoint.model_fields and k != "text"})
            for r in read_jsonl(path)]


def _tokens(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords=None, return_ids=False, show_progress=False)


def rrf(*rankings: list[str], k: int = RRF_K) -> list[str]:
    """Reciprocal-rank fusion: ids ranked by the sum of 1/(k + rank) over the rankings."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, pid in enumerate(ranking, start=1):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda pid: -scores[pid])


def _summary(rankings: list[list[str]], relevant: list[list[str]]) -> dict[str, float]:
    return {
        "recall@1": round(statistics.mean(recall_at_k(r, rel, 1) for r, rel in zip(rankings, relevant)), 3),
        "recall@5": round(statistics.mean(recall_at_k(r, rel, 5) for r, rel in zip(rankings, relevant)), 3),
        "recall@10": round(statistics.mean(recall_at_k(r, rel, 10) for r, rel in zip(rankings, relevant)), 3),
        "mrr": round(mean_reciprocal_rank(rankings, relevant), 3),
        "ndcg@10": round(statistics.mean(ndcg_at_k(r, rel, 10) for r, rel in zip(rankings, relevant)), 3),
    }


def evaluate(points_path: Path, queries_path: Path, settings: Settings) -> dict:
    """One row per method; queries without relevant ids (off-topic) are left out of the averages."""
    points = load_points(points_path)
    queries = [q for q in read_jsonl(queries_path) if q.get("relevant_ids")]
    ids = [p.learning_point_id for p in points]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([p.text for p in points], stopwords=None, show_progress=False),
                    show_progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        index = LearningIndex(settings.model_copy(update={"data_dir": Path(tmp)}))
        index.upsert(points)
        found = [index.candidates(q["query"], depth=DEPTH) for q in queries]
        dense = [[h.learning_point_id for h in c.dense] for c, _ in found]
        product = [[h.learning_point_id for h in index.fused(c, v, DEPTH)] for c, v in found]
    depth = min(DEPTH, len(points))
    found, _ = retriever.retrieve(bm25s.tokenize([q["query"] for q in queries], stopwords=None, show_progress=False),
                                  k=depth, show_progress=False)
    sparse = [[ids[int(i)] for i in row] for row in found]
    hybrid = [rrf(d, s) for d, s in zip(dense, sparse)]
    relevant = [q["relevant_ids"] for q in queries]
    return {
        "points": len(points), "queries": len(queries), "fusion": f"reciprocal rank fusion, k={RRF_K}",
        "methods": {"dense (e5)": _summary(dense, relevant), "bm25": _summary(sparse, relevant),
                    "hybrid (rrf)": _summary(hybrid, relevant),
                    "danish hybrid (search)": _summary(product, relevant)},
    }
