"""Similar-case retrieval on real narratives, leave-one-out: dense search, the fused search by points, and the
shipped search (points and case vectors), side by side.

Every case of the set is indexed once with the real :class:`LearningIndex`. Each scored case then asks for itself
three ways (staff question, opening sentences, title) with itself and any retelling of its source taken out of
both rankings; the other cases of its failure mode are the relevant ones. Points are ranked, then cases: "dense"
ranks a case where its best point is; "hybrid" fuses e5 and BM25 points and ranks cases by their points; "new"
is :meth:`LearningIndex.rank_cases`, which ``similar_cases`` uses (points fused again with the case vectors).
BM25's term statistics still include the left-out case: one document in a hundred, a negligible difference.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from assistant.evaluation.metrics import reciprocal_rank
from assistant.evaluation.retrieval_set import FORMS, RetrievalSet, load_retrieval_set
from assistant.settings import Settings
from vectorstore.fusion import FusionWeights
from vectorstore.index import Candidates, LearningIndex

TOP = 5
METHODS = ("dense", "hybrid", "new")
THRESHOLDS = [round(0.78 + 0.005 * i, 3) for i in range(21)]


class QueryRun(BaseModel):
    """One question's rankings with the left-out cases removed; ``best`` is the top-5 hits' highest cosine."""

    case_id: str | None
    split: str
    form: str
    relevant: list[str]
    cases: dict[str, list[str]]
    best: dict[str, float]


def recall_capped(ranking: list[str], relevant: set[str], k: int = TOP) -> float:
    """Share of the relevant cases in the top ``k``, out of at most ``k`` (a group of seven can still score 1)."""
    return len(relevant & set(ranking[:k])) / min(len(relevant), k)


def _first_seen(case_ids: list[str]) -> list[str]:
    return list(dict.fromkeys(case_ids))


def rank_both(index: LearningIndex, query: str, left_out: set[str], case_of: dict[str, str],
              weights: FusionWeights | None = None) -> tuple[dict[str, list[str]], dict[str, float]]:
    """Case rankings and best top-5 cosine per method (:data:`METHODS`), without ``left_out`` cases."""
    depth = len(case_of)
    found, vector = index.candidates(query, depth=depth)
    kept = Candidates(dense=[h for h in found.dense if h.case_id not in left_out],
                      sparse=[p for p in found.sparse if case_of[p] not in left_out])
    weights = weights or index.options.fusion
    hits = index.fused(kept, vector, depth, weights=weights)
    by_points = weights.model_copy(update={"case_vector": 0.0})
    cases = {"dense": _first_seen([h.case_id for h in kept.dense]),
             "hybrid": [m.case_id for m in index.rank_cases(hits, vector, weights=by_points)],
             "new": [m.case_id for m in index.rank_cases(hits, vector, weights=weights)]}
    fused_best = max((h.score for h in hits[:TOP]), default=0.0)
    best = {"dense": max((h.score for h in kept.dense[:TOP]), default=0.0), "hybrid": fused_best, "new": fused_best}
    return cases, best


def run_queries(index: LearningIndex, rset: RetrievalSet, weights: FusionWeights | None = None) -> list[QueryRun]:
    """Every scored case in every form, then every off-topic question (nothing left out)."""
    case_of = {p.learning_point_id: c.case_id for c in rset.cases for p in c.points}
    runs = []
    for case in rset.cases:
        if case.group is None:
            continue
        for form in FORMS:
            cases, best = rank_both(index, getattr(case.queries, form), rset.left_out(case), case_of, weights)
            runs.append(QueryRun(case_id=case.case_id, split=case.split or "dev", form=form,
                                 relevant=sorted(rset.relevant(case)), cases=cases, best=best))
    for off in rset.off_topic:
        cases, best = rank_both(index, off.query, set(), case_of, weights)
        runs.append(QueryRun(case_id=None, split=off.split, form="off_topic", relevant=[], cases=cases, best=best))
    return runs


def _ranking_figures(runs: list[QueryRun], method: str) -> dict[str, float]:
    if not runs:
        return {}
    return {"recall@5": round(statistics.mean(recall_capped(r.cases[method], set(r.relevant)) for r in runs), 3),
            "mrr": round(statistics.mean(reciprocal_rank(r.cases[method], r.relevant) for r in runs), 3),
            "queries": len(runs)}


def threshold_errors(runs: list[QueryRun], method: str, threshold: float) -> dict[str, float]:
    """Off-topic questions answered with a hit, and on-topic ones answered "nothing similar", as shares."""
    off = [r for r in runs if r.form == "off_topic"]
    on = [r for r in runs if r.form != "off_topic"]
    return {"off_topic_with_hit": round(sum(r.best[method] >= threshold for r in off) / max(1, len(off)), 3),
            "on_topic_nothing": round(sum(r.best[method] < threshold for r in on) / max(1, len(on)), 3)}


def summarise(runs: list[QueryRun], threshold: float) -> dict[str, Any]:
    """Per split (dev, heldout, all), per method and query form: recall@5 and MRR; threshold errors."""
    out: dict[str, Any] = {}
    for split in ("dev", "heldout", "all"):
        chosen = [r for r in runs if split == "all" or r.split == split]
        scored = [r for r in chosen if r.form != "off_topic"]
        out[split] = {method: {form: _ranking_figures([r for r in scored if r.form == form], method)
                               for form in FORMS} | {"threshold": threshold_errors(chosen, method, threshold)}
                      for method in METHODS}
    return out


def evaluate_similar_cases(path: Path, settings: Settings) -> dict[str, Any]:
    """The leave-one-out table for ``debrief eval --parts retrieval``, plus the threshold trade-off."""
    rset = load_retrieval_set(path)
    with tempfile.TemporaryDirectory() as tmp:
        options = settings.index_options().model_copy(update={
            "chroma_path": Path(tmp) / "chroma", "sparse_path": Path(tmp) / "words.sqlite3", "chroma_url": None,
            "collection": "similar_cases_eval", "search_method": "hybrid"})
        index = LearningIndex(options)
        index.upsert([p for case in rset.cases for p in case.indexed_points()])
        runs = run_queries(index, rset)
        del index
    threshold = settings.similarity_threshold
    groups = sorted({c.group for c in rset.cases if c.group})
    return {
        "cases": len(rset.cases), "scored_cases": sum(1 for c in rset.cases if c.group),
        "points": sum(len(c.points) for c in rset.cases), "groups": len(groups),
        "off_topic": len(rset.off_topic), "threshold": threshold,
        "fusion": settings.index_options().fusion.model_dump(),
        "summary": summarise(runs, threshold),
        "trade_off": {method: [{"threshold": t, **threshold_errors(runs, method, t)} for t in THRESHOLDS]
                      for method in METHODS},
        "queries": [r.model_dump() for r in runs],
    }

