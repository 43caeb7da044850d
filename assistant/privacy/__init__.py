"""Pseudonymisation before any text is shared, its scoring, and removal of instructions aimed at the AI."""

from __future__ import annotations

from assistant.privacy.injection import injection_markers, remove_instructions
from assistant.privacy.pseudonymise import LANGUAGE, SCORE_THRESHOLD, Pseudonymiser, analyzer, find_cpr_numbers
from assistant.privacy.scoring import evaluate, load_records

__all__ = [
    "LANGUAGE",
    "Pseudonymiser",
    "SCORE_THRESHOLD",
    "analyzer",
    "evaluate",
    "find_cpr_numbers",
    "injection_markers",
    "load_records",
    "remove_instructions",
]
