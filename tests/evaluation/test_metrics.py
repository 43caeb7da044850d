"""Ranking metrics and Danish error rates against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from assistant.evaluation import (
    character_error_rate,
    mean_reciprocal_rank,
    ndcg_at_k,
    normalise_danish,
    recall_at_k,
    reciprocal_rank,
    word_error_rate,
)

RANKED = ["a", "b", "c", "d", "e"]


def test_recall_counts_relevant_ids_within_the_cut_off() -> None:
    assert recall_at_k(RANKED, {"b", "e", "z"}, 2) == pytest.approx(1 / 3)
    assert recall_at_k(RANKED, {"b", "e", "z"}, 5) == pytest.approx(2 / 3)
    assert recall_at_k(RANKED, {"z"}, 5) == 0.0
    with pytest.raises(ValueError):
        recall_at_k(RANKED, set(), 5)


def test_reciprocal_rank_uses_the_first_relevant_hit() -> None:
    assert reciprocal_rank(RANKED, {"c", "e"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(RANKED, {"z"}) == 0.0
    # (1 + 1/2 + 0) / 3
    assert mean_reciprocal_rank([RANKED, ["x", "a"], ["x"]], [{"a"}, {"a"}, {"a"}]) == pytest.approx(0.5)


def test_ndcg_discounts_late_hits_against_the_ideal_order() -> None:
    # relevant b (rank 2) and d (rank 4): (1/log2 3 + 1/log2 5) / (1 + 1/log2 3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(RANKED, {"b", "d"}, 10) == pytest.approx(expected)
    assert ndcg_at_k(RANKED, {"a", "b"}, 10) == pytest.approx(1.0)
    assert ndcg_at_k(RANKED, {"e"}, 3) == 0.0
    # graded: gains a=1, c=3 → DCG 1 + 3/2 ; ideal 3 + 1/log2 3
    assert ndcg_at_k(RANKED, {"a": 1, "c": 3}, 5) == pytest.approx(2.5 / (3 + 1 / math.log2(3)))


def test_danish_normalisation_ignores_case_punctuation_and_number_spelling() -> None:
    normalised = normalise_danish("Patienten fik TO enheder insulin, kl. 14.30!")
    assert normalised == "patienten fik 2 enheder insulin kl 14,30"
    assert normalise_danish("Enogtyve borgere – 50 %  og 1.000 kr.") == "21 borgere 50 procent og 1000 kr"
    assert normalise_danish("halvfems   år, ét hundrede") == "90 år 100"
    assert normalise_danish("Søren Ærø på Åbenrå") == "søren ærø på åbenrå"


def test_word_error_rate_counts_substitutions_deletions_and_insertions() -> None:
    # reference 7 words; hypothesis drops "af", swaps "vagtskifte" → "vagt", adds "nu": 3 / 7
    reference = "Forveksling af insulin ved vagtskifte i går."
    assert word_error_rate(reference, "forveksling insulin ved vagt i går nu") == pytest.approx(3 / 7)
    assert word_error_rate("Hun fik 2 tabletter.", "hun fik to tabletter") == 0.0
    assert word_error_rate("", "") == 0.0 and word_error_rate("", "noget") == 1.0


def test_character_error_rate_counts_characters_after_normalisation() -> None:
    # "insulin" vs "insolin": one substitution in 7 characters
    assert character_error_rate("Insulin", "insolin") == pytest.approx(1 / 7)
    assert character_error_rate("Fem piller.", "5 piller") == 0.0
