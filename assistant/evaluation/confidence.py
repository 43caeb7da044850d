"""How well low-confidence marking finds the recogniser's errors: recall, precision and share of words marked.

The transcript marks a word ``[?word]`` when its probability is below ``DEBRIEF_LOW_CONFIDENCE`` (see
``assistant.speech.words``). Here each file's normalised reference and hypothesis words are aligned by edit
distance (jiwer); a hypothesis word is an **error** when the alignment substitutes or inserts it. Each normalised
hypothesis word keeps the probability of the recogniser word it came from (a word "21." gives "21"; "2 timer" in
one recogniser word gives two words with its probability). Reference words the recogniser dropped (deletions) have
no word to mark; they are counted, never in the recall.

Pure functions on word lists, so the arithmetic is tested without a model; :func:`scored_words` reads a transcript.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import jiwer

from assistant.evaluation.metrics import normalise_danish
from assistant.models import Segment

# The thresholds reported beside the configured one, and the share of words a person can be asked to check.
SWEEP = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
MARKED_SHARE_LIMIT = 0.25
RECALL_TARGET = 0.60


@dataclass(frozen=True)
class ScoredWord:
    """One normalised hypothesis word: its probability (None: the backend gave none) and whether it is wrong."""

    text: str
    probability: float | None
    error: bool


def hypothesis_words(segments: Iterable[Segment]) -> list[tuple[str, float | None]]:
    """The transcript's words normalised as for WER, each with the probability of the recogniser word it came from.

    A segment whose words no longer match its text (or has none) gives its text's words without a probability,
    as the transcript shows them unmarked (``assistant.speech.words.marked_pieces``).
    """
    out: list[tuple[str, float | None]] = []
    for segment in segments:
        if segment.words and " ".join(w.text for w in segment.words) == " ".join(segment.text.split()):
            out.extend((token, w.probability) for w in segment.words for token in normalise_danish(w.text).split())
        else:
            out.extend((token, None) for token in normalise_danish(segment.text).split())
    return out


def error_flags(reference: Sequence[str], hypothesis: Sequence[str]) -> tuple[list[bool], int]:
    """Per hypothesis word, whether the edit-distance alignment substitutes or inserts it; and the deletions."""
    if not hypothesis:
        return [], len(reference)
    if not reference:
        return [True] * len(hypothesis), 0
    aligned = jiwer.process_words(" ".join(reference), " ".join(hypothesis))
    if len(aligned.hypotheses[0]) != len(hypothesis):  # a token jiwer split or dropped: would misplace the flags
        raise ValueError("hypothesis words must be non-empty and hold no whitespace")
    flags = [False] * len(hypothesis)
    for chunk in aligned.alignments[0]:
        if chunk.type in ("substitute", "insert"):
            flags[chunk.hyp_start_idx:chunk.hyp_end_idx] = [True] * (chunk.hyp_end_idx - chunk.hyp_start_idx)
    return flags, aligned.deletions


def scored_words(reference: str, segments: Iterable[Segment]) -> tuple[list[ScoredWord], int]:
    """The transcript's normalised words, each marked right or wrong against ``reference``; and the deletions."""
    words = hypothesis_words(segments)
    flags, deletions = error_flags(normalise_danish(reference).split(), [t for t, _ in words])
    return [ScoredWord(t, p, e) for (t, p), e in zip(words, flags, strict=True)], deletions


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def marking(words: Sequence[ScoredWord], threshold: float) -> dict:
    """Counts and shares when words below ``threshold`` are marked (words without a probability are left out).

    recall: share of error words marked; precision: share of marked words that are errors; marked_share: share
    of all words marked. None where the share has nothing to divide by.
    """
    kept = [w for w in words if w.probability is not None]
    marked = [w for w in kept if w.probability < threshold]  # the same rule as the transcript's [?word]
    errors = sum(w.error for w in kept)
    hits = sum(w.error for w in marked)
    return {"threshold": threshold, "words": len(kept), "errors": errors, "marked": len(marked),
            "marked_errors": hits, "recall": _share(hits, errors), "precision": _share(hits, len(marked)),
            "marked_share": _share(len(marked), len(kept))}


def best_within(rows: Sequence[dict], limit: float = MARKED_SHARE_LIMIT) -> dict | None:
    """The row with the highest recall that marks at most ``limit`` of the words (fewer marked on a tie)."""
    fitting = [r for r in rows if r["recall"] is not None and r["marked_share"] is not None
               and r["marked_share"] <= limit]
    return max(fitting, key=lambda r: (r["recall"], -r["marked_share"]), default=None)


def recall_ceiling(words: Sequence[ScoredWord], limit: float = MARKED_SHARE_LIMIT) -> float | None:
    """The highest recall any marking of at most ``limit`` of the words could reach (every mark on an error)."""
    kept = [w for w in words if w.probability is not None]
    errors = sum(w.error for w in kept)
    return round(min(1.0, int(limit * len(kept)) / errors), 3) if errors else None


def error_ranking_auc(words: Sequence[ScoredWord]) -> float | None:
    """Chance that an error word has a lower probability than a right word (ties half): 0.5 is no better than
    guessing, 1.0 ranks every error first. Says whether the probabilities help, whatever the threshold and the
    share of errors; None without both kinds of word."""
    wrong = [w.probability for w in words if w.probability is not None and w.error]
    right = [w.probability for w in words if w.probability is not None and not w.error]
    if not wrong or not right:
        return None
    wins = sum((e < r) + 0.5 * (e == r) for e in wrong for r in right)
    return round(wins / (len(wrong) * len(right)), 3)


def confidence_report(words: Sequence[ScoredWord], deletions: int, threshold: float,
                      sweep: Sequence[float] = SWEEP) -> dict:
    """Marking at the configured ``threshold``, a sweep of thresholds, and the best one within 25 % marked."""
    rows = [marking(words, t) for t in sorted({*sweep, threshold})]
    best = best_within(rows)
    scorable = any(r["recall"] is not None for r in rows)  # some error word has a probability
    return {
        "threshold": threshold, "at_threshold": marking(words, threshold), "sweep": rows,
        "best_within_limit": best, "marked_share_limit": MARKED_SHARE_LIMIT, "recall_target": RECALL_TARGET,
        "target_met": (best is not None and best["recall"] >= RECALL_TARGET) if scorable else None,
        # Marking at most a quarter of the words cannot find more errors than that: with a word error share above
        # 25 % / 60 % ≈ 42 %, the target is out of reach whatever the probabilities say.
        "recall_ceiling_at_limit": recall_ceiling(words),
        "error_ranking_auc": error_ranking_auc(words),
        "deleted_reference_words": deletions,
        "words_without_probability": sum(w.probability is None for w in words),
    }
