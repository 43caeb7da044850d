"""Checks a drafted point must pass before a reviewer sees it: each written field is backed by its cited lines, a
"what went well" item does not restate a failure, and no field repeats another. A point that fails is repaired
(the field is dropped or replaced by the lines' own words) and carries a warning saying what was done and why.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from assistant.drafting.cues import Cues, words
from assistant.models import DraftWarning, LearningPointDraft

SAME_TEXT = 90  # rapidfuzz ratio of two normalised fields above which one repeats the other
CONTAINED = 95  # partial_ratio above which the shorter field is a stretch copied out of the longer
SUPPORTED_SHARE = 0.5  # share of a title's content words that must occur in its cited lines
STEM = 4  # words compare by their first letters, so "faldt" backs "fald" and "sengen" backs "seng"


def _stems(text: str, cues: Cues) -> set[str]:
    empty = cues.empty_words
    return {w[:STEM] for w in words(text) if len(w) >= 4 and w not in empty}


def support(text: str, source: str, cues: Cues) -> float:
    """Share of ``text``'s content words found (by stem) in ``source``; 1.0 when it has none to check."""
    mine = _stems(text, cues)
    return len(mine & _stems(source, cues)) / len(mine) if mine else 1.0


def borrowed(text: str, source: str, prompt_text: str, cues: Cues) -> bool:
    """Whether ``text`` uses a word of the prompt (its worked example) that its source lines do not."""
    return bool((_stems(text, cues) & _stems(prompt_text, cues)) - _stems(source, cues))


def _norm(text: str) -> str:
    return " ".join(words(text))


def repeats(a: str, b: str) -> bool:
    """Whether two fields say the same words (case, punctuation and spacing aside), or one is a stretch of five
    words or more copied out of the other."""
    a, b = _norm(a), _norm(b)
    if not (a and b):
        return False
    shorter = min(a, b, key=len)
    copied = len(shorter.split()) >= 5 and fuzz.partial_ratio(a, b) >= CONTAINED
    return a == b or fuzz.ratio(a, b) >= SAME_TEXT or copied


def _warn(key: str, **params: str) -> DraftWarning:
    return DraftWarning(key=key, params=params)


def check_went_well(point: LearningPointDraft, cues: Cues) -> LearningPointDraft:
    """Drop "went well" items that tell of a failure (more failure words than success words)."""
    kept = [item for item in point.what_went_well if cues.polarity(item) >= 0]
    if len(kept) == len(point.what_went_well):
        return point
    dropped = len(point.what_went_well) - len(kept)
    return point.model_copy(update={
        "what_went_well": kept,
        "warnings": [*point.warnings, _warn("draft.check.went_well_failure", count=str(dropped))],
    })


def drop_repeats(point: LearningPointDraft) -> LearningPointDraft:
    """Keep each text once across title, account, factors, what went well and actions (first one wins)."""
    seen = [point.title, point.what_happened]  # a title repeating the account is replaced before (small_model._title)
    warnings = list(point.warnings)

    def fresh(items: list[str]) -> list[str]:
        kept = []
        for item in items:
            if any(repeats(item, other) for other in seen):
                warnings.append(_warn("draft.check.repeated_field", text=item[:60]))
                continue
            seen.append(item)
            kept.append(item)
        return kept

    factors = fresh(point.contributing_factors)
    went_well = fresh(point.what_went_well)
    actions = [a for a in point.suggested_actions if a.action in fresh([a.action])]
    return point.model_copy(update={"contributing_factors": factors, "what_went_well": went_well,
                                    "suggested_actions": actions, "warnings": warnings})


def copied_fields(point: LearningPointDraft) -> int:
    """How many fields of ``point`` repeat an earlier one (the evaluation's "copied verbatim" count)."""
    fields = [point.title, point.what_happened, *point.contributing_factors, *point.what_went_well,
              *(a.action for a in point.suggested_actions)]
    return sum(1 for i, text in enumerate(fields) if any(repeats(text, other) for other in fields[:i]))
