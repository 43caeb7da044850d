"""Harm no word names, estimated from the event's lines by a classifier trained on labelled published cases.

Most debriefs never say how badly the patient was hurt in words a list can find ("she was found on the floor and
admitted", "the diagnosis came two years late"). Asked, the bundled 1.5B model answered the same way for near
misses and serious harm. A logistic regression over the multilingual-e5 vector of the event's lines (Situation,
Analyse; ``text_classifier``) does better: it drafts one of three levels — mild for what reads like a near miss or
small harm, moderat for harm that needed treatment, alvorlig for lasting or life-threatening harm — each within one
level of its neighbours, so an uncertain estimate next to the truth is never two levels from it. It drafts moderat
or alvorlig only when that is more probable than mild by more than ``MARGIN``: no harm and small harm are what
most unnamed harm turns out to be, and mild is one level from both no harm and moderat. The reviewer is always
asked to set the level.
"""

from __future__ import annotations

from assistant.drafting.text_classifier import classify
from assistant.models import Severity

HARM_CLASSIFIER = "harm_classifier"
DRAFTED = [Severity.mild, Severity.moderate, Severity.severe]
# What each reference level is learnt as: no harm and small harm read alike, and death is serious harm the words
# would have named ("døde") had it been told; the three drafted levels cover the five with one step either side.
MARGIN = 0.1  # 0.1–0.3 scored alike with one corpus held out (scripts/train_drafting_classifiers.py); 0 drafted
# moderat for more near misses
TRAINED_AS = {Severity.none: Severity.mild, Severity.mild: Severity.mild, Severity.moderate: Severity.moderate,
              Severity.severe: Severity.severe, Severity.fatal: Severity.severe}


def estimate_harm(text: str, embedder) -> Severity | None:
    """The estimated level of the harm ``text`` tells, or None when no shipped classifier fits ``embedder``."""
    chosen = classify(HARM_CLASSIFIER, text, embedder, default=Severity.mild.value, margin=MARGIN)
    return Severity(chosen) if chosen is not None else None
