"""Pseudonymisation before any text is shared, its scoring, and removal of instructions aimed at the AI."""

from __future__ import annotations

from assistant.privacy.injection import injection_markers, remove_instructions
from assistant.privacy.pseudonymise import (
    LANGUAGE,
    SCORE_THRESHOLD,
    VERSIONS,
    Pseudonymiser,
    RecogniserVersion,
    analyzer,
    find_cpr_numbers,
)
from assistant.privacy.scoring import dev_and_held_out, evaluate, load_records, negatives_altered, recall_by_form
from assistant.privacy.spoken_text import normalise_spoken

__all__ = [
    "LANGUAGE",
    "Pseudonymiser",
    "RecogniserVersion",
    "VERSIONS",
    "dev_and_held_out",
    "negatives_altered",
    "normalise_spoken",
    "recall_by_form",
    "SCORE_THRESHOLD",
    "analyzer",
    "evaluate",
    "find_cpr_numbers",
    "injection_markers",
    "load_records",
    "remove_instructions",
]
