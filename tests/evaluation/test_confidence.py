"""Low-confidence marking against the recogniser's errors: alignment and counting on hand-made words, no model."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.evaluation.confidence import (
    ScoredWord,
    best_within,
    confidence_report,
    error_flags,
    error_ranking_auc,
    hypothesis_words,
    marking,
    scored_words,
)
from assistant.evaluation.metrics import normalise_danish
from assistant.evaluation.run import tables
from assistant.models import Segment, Word


def _segment(index: int, words: list[tuple[str, float]], text: str | None = None) -> Segment:
    timed = [Word(text=t, start=i, end=i + 0.5, probability=p) for i, (t, p) in enumerate(words)]
    return Segment(index=index, start=0, end=len(words), text=text or " ".join(t for t, _ in words), words=timed)


def test_substituted_and_inserted_words_are_errors_and_deletions_are_counted_apart():
    flags, deletions = error_flags("patienten fik 10 enheder insulin".split(),
                                   "patienten fiks 10 enheder af insulin".split())
    assert flags == [False, True, False, False, True, False]  # "fiks" substituted, "af" inserted
    assert deletions == 0
    flags, deletions = error_flags("a b c d".split(), "a d".split())
    assert flags == [False, False] and deletions == 2
    assert error_flags([], ["a", "b"]) == ([True, True], 0)
    assert error_flags(["a"], []) == ([], 1)


def test_normalised_words_keep_the_probability_of_the_recogniser_word_they_came_from():
    segments = [_segment(0, [("Patienten", 0.9), ("fik", 0.4), ("21,", 0.7)]),
                _segment(1, [("Insulin.", 0.2)], text="Rettet af en person.")]  # corrected line: words no longer match
    assert hypothesis_words(segments) == [("patienten", 0.9), ("fik", 0.4), ("21", 0.7),
                                          ("rettet", None), ("af", None), ("1", None), ("person", None)]
    words, deletions = scored_words("Patienten fik enogtyve enheder", segments[:1])
    assert [(w.text, w.error) for w in words] == [("patienten", False), ("fik", False), ("21", False)]
    assert deletions == 1  # "enheder" was not heard: nothing to mark


def test_recall_precision_and_marked_share_at_a_threshold():
    words = [ScoredWord("a", 0.9, False), ScoredWord("b", 0.3, True), ScoredWord("c", 0.45, False),
             ScoredWord("d", 0.6, True), ScoredWord("e", 0.1, True), ScoredWord("f", None, True)]
    at = marking(words, 0.5)
    # five words with a probability, three of them errors; b, c, e marked (below 0.5), b and e wrong
    assert (at["words"], at["errors"], at["marked"], at["marked_errors"]) == (5, 3, 3, 2)
    assert (at["recall"], at["precision"], at["marked_share"]) == (0.667, 0.667, 0.6)
    assert marking(words, 0.5000001)["marked"] == 3 and marking(words, 0.45)["marked"] == 2  # strictly below
    nothing = marking(words, 0.0)
    assert (nothing["marked"], nothing["recall"], nothing["precision"]) == (0, 0.0, None)
    assert marking([ScoredWord("a", 0.9, False)], 0.5)["recall"] is None  # no error to find


def test_the_best_threshold_has_the_highest_recall_within_a_quarter_of_words_marked():
    rows = [{"threshold": 0.3, "recall": 0.4, "marked_share": 0.1},
            {"threshold": 0.4, "recall": 0.6, "marked_share": 0.2},
            {"threshold": 0.5, "recall": 0.6, "marked_share": 0.25},
            {"threshold": 0.6, "recall": 0.9, "marked_share": 0.4}]
    assert best_within(rows)["threshold"] == 0.4  # same recall, fewer words to check
    assert best_within(rows[3:]) is None


def test_the_report_says_whether_the_target_is_met_and_prints_a_table():
    # 20 words: 4 errors at low probability, 16 right at high: 0.3 marks the 4 errors (20 %) and nothing else
    words = [ScoredWord(f"e{i}", 0.2, True) for i in range(4)] + [ScoredWord(f"w{i}", 0.95, False) for i in range(16)]
    report = confidence_report(words, deletions=1, threshold=0.5)
    assert report["at_threshold"]["recall"] == 1.0 and report["at_threshold"]["marked_share"] == 0.2
    assert report["best_within_limit"]["threshold"] == 0.3 and report["target_met"] is True
    assert 0.5 in [r["threshold"] for r in report["sweep"]] and report["deleted_reference_words"] == 1
    assert report["recall_ceiling_at_limit"] == 1.0  # 5 of 20 words may be marked, 4 are wrong
    assert report["error_ranking_auc"] == 1.0  # every error below every right word
    everything_low = [ScoredWord(f"e{i}", 0.2, i < 10) for i in range(20)]
    low = confidence_report(everything_low, 0, 0.5)
    assert low["target_met"] is False  # all marked from 0.3 on: no threshold fits
    assert low["recall_ceiling_at_limit"] == 0.5  # 5 marks for 10 errors
    assert confidence_report([ScoredWord("a", 0.9, False)], 0, 0.5)["target_met"] is None
    result = {"parts": {"asr": {"files": [], "pooled": {"wer": None, "cer": None},
                                "confidence": {"generated": report | {"files": 1}}}}}
    titles = [t.title for t in tables(result)]
    assert titles[0] == "asr" and "generated audio" in titles[1] and "met" in titles[1]


def test_the_ranking_figure_is_a_half_for_probabilities_that_say_nothing():
    same = [ScoredWord("a", 0.5, True), ScoredWord("b", 0.5, False)]
    assert error_ranking_auc(same) == 0.5
    backwards = [ScoredWord("a", 0.9, True), ScoredWord("b", 0.1, False), ScoredWord("c", 0.3, False)]
    assert error_ranking_auc(backwards) == 0.0
    mixed = [ScoredWord("a", 0.2, True), ScoredWord("b", 0.6, True), ScoredWord("c", 0.4, False)]
    assert error_ranking_auc(mixed) == 0.5
    assert error_ranking_auc([ScoredWord("a", 0.2, True), ScoredWord("b", None, False)]) is None


@pytest.mark.parametrize("bad", [["two words"], [""]])
def test_hypothesis_words_with_whitespace_are_refused(bad):
    with pytest.raises(ValueError):
        error_flags(["a"], bad)


def test_the_asr_evaluation_scores_marking_from_the_same_transcriber_call(settings):
    """One espeak-ng sentence through the bundled Whisper: its words, probabilities and errors are counted."""
    from assistant.evaluation.asr import evaluate

    result = evaluate(Path(__file__).resolve().parents[1] / "data" / "asr", settings, limit=1)
    (file,) = result["files"]
    report = result["confidence"]["generated"]  # espeak-ng speech: never reported as recorded audio
    assert "recorded" not in result["confidence"] and report["files"] == 1
    at = report["at_threshold"]
    assert at["threshold"] == settings.low_confidence
    assert at["words"] == len(normalise_danish(file["hypothesis"]).split()) > 0
    assert {k: at[k] for k in ("words", "errors", "marked", "marked_errors")} == file["marked"]
    assert at["errors"] > 0 and [r["threshold"] for r in report["sweep"]][:3] == [0.1, 0.2, 0.3]
    assert report["target_met"] in (True, False) and report["words_without_probability"] == 0
