"""Putting the dense and the sparse ranking together, and points together into cases: pure functions on ranked ids.

Fusion is weighted reciprocal-rank fusion (Cormack et al. 2009): ranks, not raw scores, so e5 cosines and BM25
scores need no common scale. Soft boosts add a little for a preferred sector or category without hiding the rest.
Cases are ranked twice and fused again: by their points, and by one vector of the whole case (:func:`rank_cases`).
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
    case_vector: float = Field(0.75, ge=0, description="Weight of the case-level e5 ranking (a case's approved "
                               "points embedded together) against the point ranking (1.0) when ranking cases; "
                               "0 ranks cases by their points alone.")
    case_rrf_k: float = Field(20.0, gt=0, description="Reciprocal-rank constant of that case-level fusion.")


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


def rank_cases(point_scores: dict[str, float], case_of: Callable[[str], str], case_cosines: dict[str, float],
               weights: FusionWeights) -> list[str]:
    """Case ids, best first: the point-based case ranking (:func:`case_scores`) fused by reciprocal rank with the
    ranking of the same cases by ``case_cosines`` (question vs. the whole case's vector; cases without one get
    nothing from it). One point says little about what kind of event a case was; all of its points together say
    more (mostly a better order of the top cases on the real set: docs/evaluation.md)."""
    by_points = ranked(case_scores(point_scores, case_of, weights))
    if weights.case_vector <= 0 or not case_cosines:
        return by_points
    by_vector = ranked({case_id: case_cosines[case_id] for case_id in by_points if case_id in case_cosines})
    fused: dict[str, float] = {}
    for ranking, weight in ((by_points, 1.0), (by_vector, weights.case_vector)):
        for rank, case_id in enumerate(ranking, start=1):
            fused[case_id] = fused.get(case_id, 0.0) + weight / (weights.case_rrf_k + rank)
    return ranked(fused)
