"""Reading a case: views, who may read it, finding it by id or reference, receipt codes and clips of a kept
recording."""

from __future__ import annotations

from assistant.cases.reading import (
    CaseView,
    LearningPointView,
    audio_clip,
    format_timestamp,
    load_case,
    load_case_for,
    may_read_case,
    case_for_reader,
    require_case_reader,
    segment_clip,
    warning_text,
)
from assistant.cases.correction import CorrectionView, correction_view, word_clip
from assistant.cases.lookup import find_case, find_point
from assistant.cases.receipts import LookupLimiter, new_receipt_code, normalise_receipt, receipt_hash

__all__ = [
    "CaseView",
    "CorrectionView",
    "LearningPointView",
    "LookupLimiter",
    "audio_clip",
    "case_for_reader",
    "correction_view",
    "find_case",
    "find_point",
    "format_timestamp",
    "load_case",
    "load_case_for",
    "may_read_case",
    "new_receipt_code",
    "normalise_receipt",
    "receipt_hash",
    "require_case_reader",
    "segment_clip",
    "warning_text",
    "word_clip",
]
