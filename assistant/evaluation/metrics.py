"""How well retrieval and transcription work, as pure functions: ranking metrics and Danish-normalised WER/CER.

Ranking metrics take ranked ids (best first) and the ids a person judged relevant. Error rates normalise both
texts the same way first (see :func:`normalise_danish`), so that "2" and "to", "Insulin," and "insulin"
count as the same word.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence

import jiwer

# -- ranking ------------------------------------------------------------------------------------------------


def _relevant_set(relevant_ids: Collection[str]) -> set[str]:
    return set(relevant_ids)


def recall_at_k(ranked_ids: Sequence[str], relevant_ids: Collection[str], k: int) -> float:
    """Share of the relevant ids found in the top ``k``; undefined (ValueError) when nothing is relevant."""
    relevant = _relevant_set(relevant_ids)
    if not relevant:
        raise ValueError("recall is undefined for a query with no relevant ids")
    if k < 1:
        raise ValueError("k must be at least 1")
    return len(relevant & set(ranked_ids[:k])) / len(relevant)


def reciprocal_rank(ranked_ids: Sequence[str], relevant_ids: Collection[str]) -> float:
    """1 / rank of the first relevant id (rank 1 = best), 0 when none is ranked."""
    relevant = _relevant_set(relevant_ids)
    for rank, item in enumerate(ranked_ids, start=1):
        if item in relevant:
            return 1.0 / rank
    return 0.0


def mean_reciprocal_rank(rankings: Sequence[Sequence[str]], relevant: Sequence[Collection[str]]) -> float:
    """Mean of :func:`reciprocal_rank` over queries (``rankings[i]`` is judged against ``relevant[i]``)."""
    if len(rankings) != len(relevant):
        raise ValueError("one set of relevant ids per ranking")
    if not rankings:
        raise ValueError("no queries")
    return sum(reciprocal_rank(r, rel) for r, rel in zip(rankings, relevant)) / len(rankings)


def ndcg_at_k(ranked_ids: Sequence[str], relevant_ids: Collection[str] | Mapping[str, float], k: int) -> float:
    """Normalised discounted cumulative gain at ``k``: gain / log2(rank + 1), divided by the ideal ranking's.

    ``relevant_ids`` is a set (every relevant id has gain 1) or a mapping id → graded gain.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    gains = dict(relevant_ids) if isinstance(relevant_ids, Mapping) else {i: 1.0 for i in relevant_ids}
    ideal = sorted((g for g in gains.values() if g > 0), reverse=True)[:k]
    if not ideal:
        raise ValueError("nDCG is undefined for a query with no relevant ids")
    dcg = sum(gains.get(item, 0.0) / math.log2(rank + 1) for rank, item in enumerate(ranked_ids[:k], start=1))
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return dcg / idcg


# -- transcription ------------------------------------------------------------------------------------------

_UNITS = {"nul": 0, "en": 1, "et": 1, "én": 1, "ét": 1, "to": 2, "tre": 3, "fire": 4, "fem": 5, "seks": 6,
          "syv": 7, "otte": 8, "ni": 9}
_TEENS = {"ti": 10, "elleve": 11, "tolv": 12, "tretten": 13, "fjorten": 14, "femten": 15, "seksten": 16,
          "sytten": 17, "atten": 18, "nitten": 19}
_TENS = {"tyve": 20, "tredive": 30, "tredve": 30, "fyrre": 40, "fyrretyve": 40, "halvtreds": 50,
         "halvtredsindstyve": 50, "tres": 60, "tresindstyve": 60, "halvfjerds": 70, "halvfjerdsindstyve": 70,
         "firs": 80, "firsindstyve": 80, "halvfems": 90, "halvfemsindstyve": 90}


def _number_words() -> dict[str, str]:
    words = {**_UNITS, **_TEENS, **_TENS, "hundrede": 100, "ethundrede": 100, "hundred": 100}
    for unit, value in _UNITS.items():
        if 1 <= value <= 9 and unit not in {"et", "én", "ét"}:
            for tens, tens_value in _TENS.items():
                words[f"{unit}og{tens}"] = value + tens_value  # Danish says the unit first: "enogtyve" = 21
    return {w: str(v) for w, v in words.items()}


_NUMBER_WORDS = _number_words()
_THOUSANDS = re.compile(r"(?<=\d)\.(?=\d{3}(?!\d))")
_DECIMAL = re.compile(r"(?<=\d)[.,](?=\d)")
# Anything that is not a letter, digit or space becomes a space; a comma between digits (decimal) stays.
_PUNCTUATION = re.compile(r"(?!(?<=\d),(?=\d))[^\w\s]|_")
_HUNDRED = re.compile(r"\b(?:et|ét|ethundrede)\s+hundrede\b")


def normalise_danish(text: str) -> str:
    """Lower-case, punctuation to spaces, whitespace collapsed, and Danish number words 0–100 as digits.

    Numbers go to digits (not digits to words) because that direction is a plain lookup: "enogtyve" and "21"
    both become "21". The article "en"/"et" becomes "1" too; as both texts are normalised alike, this only
    merges words that sound the same. Decimal commas and points become ","; thousands points are dropped;
    "%" becomes "procent". Ordinals and "komma" in spoken decimals are left as words.
    """
    text = unicodedata.normalize("NFKC", text).lower().replace("%", " procent ")
    text = _THOUSANDS.sub("", text)
    text = _DECIMAL.sub(",", text)
    text = _PUNCTUATION.sub(" ", text)
    text = _HUNDRED.sub("hundrede", text)
    return " ".join(_NUMBER_WORDS.get(word, word) for word in text.split())


def _error_rate(reference: str, hypothesis: str, measure) -> float:
    ref, hyp = normalise_danish(reference), normalise_danish(hypothesis)
    if not ref:
        # Nothing was said: any output is all insertion. Count it as 100 % rather than dividing by zero.
        return 0.0 if not hyp else 1.0
    return float(measure(ref, hyp))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, after :func:`normalise_danish` (can exceed 1)."""
    return _error_rate(reference, hypothesis, jiwer.wer)


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Like :func:`word_error_rate` on characters (spaces included), after :func:`normalise_danish`."""
    return _error_rate(reference, hypothesis, jiwer.cer)
