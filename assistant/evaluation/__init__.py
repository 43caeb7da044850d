"""``debrief eval``: quality of each AI step measured on data sets with known answers."""

from __future__ import annotations

from assistant.evaluation.drafting import evidence_validity, load_records
from assistant.evaluation.metrics import (
    character_error_rate,
    mean_reciprocal_rank,
    ndcg_at_k,
    normalise_danish,
    recall_at_k,
    reciprocal_rank,
    word_error_rate,
)
from assistant.evaluation.pseudonymisation import cpr_leaks
from assistant.evaluation.retrieval import load_points, rrf
from assistant.evaluation.run import print_and_write, run_eval

__all__ = [
    "character_error_rate",
    "cpr_leaks",
    "evidence_validity",
    "load_points",
    "load_records",
    "mean_reciprocal_rank",
    "ndcg_at_k",
    "normalise_danish",
    "print_and_write",
    "recall_at_k",
    "reciprocal_rank",
    "rrf",
    "run_eval",
    "word_error_rate",
]
