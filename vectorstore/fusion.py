"""Putting the dense and the sparse ranking together, and points together into cases: pure functions on ranked ids.

Fusion is weighted reciprocal-rank fusion (Cormack et al. 2009): ranks, not raw scores, so e5 cosines and BM25
scores need no common scale. Soft boosts add a little for a preferred sector or category without hiding the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field


class FusionWeights(BaseModel):
    """How the two rankings count; chosen on the development part of ``tests/data/retrieval_real_da.jsonl``."""

    rrf_k: float = Field(5.0, gt=0, description="Reciprocal-rank constant: larger flattens the top ranks.")
    dense: float = Field(1.0, ge=0, description="Weight of the e5 (meaning) ranking.")
    sparse: float = Field(0.6, ge=0, description="Weight of the Danish BM25 (words) ranking.")
    boost: float = Field(0.03, ge=0, description="Added for each preferred sector or category a point has.")
    case_extra: float = Field(0.3, ge=0, description="Share of a case's second-best point added to its best.")


class Preferences(BaseModel):
    """Soft boosts: points of these sectors or categories move up, the others stay in the list."""

    sectors: set[str] = Field(default_factory=set)
    categories: set[str] = Field(default_factory=set)


def fuse(dense: Sequence[str], sparse: Sequence[str], weights: FusionWeights) -> dict[str, float]:
    """Id → fused score from two rankings (best first); an id missing from one ranking gets nothing from it."""
    scores: dict[str, float] = {}
    for ranking, weight in ((dense, weights.dense), (sparse, weights.sparse)):
        if weight <= 0:
            continue
        for rank, pid in enumerate(ranking, start=1):
            scores[pid] = scores.get(pid, 0.0) + weight / (weights.rrf_k + rank)
    return scores


def boosted(scores: dict[str, float], attributes: Callable[[str], tuple[str, str]],
            preferences: Preferences | None, weights: FusionWeights) -> dict[str, float]:
    """The scores with ``weights.boost`` added per preferred sector or category (``attributes``: id → both)."""
    if preferences is None or not (preferences.sectors or preferences.categories):
        return scores
    out = {}
    for pid, score in scores.items():
        sector, category = attributes(pid)
        out[pid] = score + weights.boost * ((sector in preferences.sectors) + (category in preferences.categories))
    return out


def ranked(scores: dict[str, float]) -> list[str]:
    """Ids by score, best first (ties keep first-seen order)."""
    return sorted(scores, key=lambda pid: -scores[pid])


def case_scores(point_scores: dict[str, float], case_of: Callable[[str], str],
                weights: FusionWeights) -> dict[str, float]:
    """Case → its best point's score plus ``case_extra`` × its second best: a case with two matching approved
    points is more alike than one with a single chance match."""
    per_case: dict[str, list[float]] = {}
    for pid, score in point_scores.items():
        per_case.setdefault(case_of(pid), []).append(score)
    out = {}
    for case_id, scores in per_case.items():
        best = sorted(scores, reverse=True)
        out[case_id] = best[0] + (weights.case_extra * best[1] if len(best) > 1 else 0.0)
    return out
