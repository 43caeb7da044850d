"""A line classifier for ISBAR parts, trained on labelled realistic case texts; the labeller's first choice.

Hand-written example lines and cue votes (``isbar_lines``) reached a macro-F1 of about 0.6 on published Danish
case texts. A multinomial logistic regression over the same signals — the line's multilingual-e5 vector, its
neighbours' vectors (a part runs over several lines), word cues and its place in the text — learns how much
each is worth from the labelled lines of ``tests/data/drafting_real_da.jsonl``. Inference is one matrix product,
so it stays well under a second for a 1,500-word debrief. The weights live in ``prompts/isbar_line_classifier.npz``
and are remade by ``scripts/train_isbar_classifier.py``; they fit one embedder (its ``model_id`` is stored) and
one cue version, and the labeller falls back to the example votes for any other embedder.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from assistant.drafting.cues import Cues
from assistant.models import IsbarPart, Segment
from prompts import PROMPTS_DIR

CLASSIFIER_FILE = PROMPTS_DIR / "isbar_line_classifier.npz"
CLASSES: list[str] = [p.value for p in IsbarPart] + ["none"]
NEIGHBOUR_MIN_WORDS = 3  # as the example labeller's floor for a line with content
MAX_CUES = 2  # per part, as in the example votes: a line full of one part's words is not three times that part


def line_features(segments: list[Segment], vectors: np.ndarray, cues: Cues) -> np.ndarray:
    """One row per line: its vector, the previous and next lines' vectors (zeros at the ends), cue counts per
    part, and where it stands. Training and labelling both call this, so they cannot drift apart."""
    vectors = np.asarray(vectors, dtype=np.float32)
    count, dimension = vectors.shape
    blank = np.zeros(dimension, dtype=np.float32)
    # Neighbours are the nearest lines with content: "øh ja okay" between two lines does not end a part.
    spoken = [i for i, s in enumerate(segments) if cues.content_words(s.text) >= NEIGHBOUR_MIN_WORDS]
    before = np.vstack([vectors[max((j for j in spoken if j < i), default=-1)] if any(j < i for j in spoken)
                        else blank for i in range(count)])
    after = np.vstack([vectors[min((j for j in spoken if j > i), default=-1)] if any(j > i for j in spoken)
                       else blank for i in range(count)])
    rows = []
    for i, segment in enumerate(segments):
        place = i / (count - 1) if count > 1 else 0.5
        found = [min(cues.count(segment.text, cues.isbar.get(part, [])), MAX_CUES) for part in IsbarPart]
        shape = [place, place * place, float(i == 0), float(i == count - 1),
                 min(cues.content_words(segment.text), 30) / 30, float(cues.asks(segment.text)), float(count >= 4)]
        rows.append(np.concatenate([found, shape]).astype(np.float32))
    return np.hstack([vectors, np.vstack(rows), before, after])


@dataclass(frozen=True)
class LineClassifier:
    """Trained weights and what they fit: ``embedder`` (model id), ``cues_version``, ``version`` (stored with
    each draft)."""

    version: str
    embedder: str
    cues_version: str
    weights: np.ndarray  # classes × features
    bias: np.ndarray  # classes

    def fits(self, embedder_id: str) -> bool:
        return embedder_id == self.embedder

    def label(self, segments: list[Segment], vectors: np.ndarray, cues: Cues) -> list[IsbarPart | None]:
        """One ISBAR part (or None) per line, in order."""
        if not segments:
            return []
        scores = line_features(segments, vectors, cues) @ self.weights.T + self.bias
        chosen = [CLASSES[i] for i in scores.argmax(axis=1)]
        return [IsbarPart(name) if name != "none" else None for name in chosen]

    def save(self, path=CLASSIFIER_FILE) -> None:
        np.savez_compressed(path, version=self.version, embedder=self.embedder, cues_version=self.cues_version,
                            classes=np.array(CLASSES), weights=self.weights.astype(np.float32),
                            bias=self.bias.astype(np.float32))


@lru_cache(maxsize=1)
def load_classifier() -> LineClassifier | None:
    """The shipped classifier, or None when the file is missing (the labeller then uses its example votes)."""
    if not CLASSIFIER_FILE.exists():
        return None
    with np.load(CLASSIFIER_FILE) as data:
        if list(data["classes"]) != CLASSES:
            raise ValueError(f"{CLASSIFIER_FILE.name}: classes {list(data['classes'])}, expected {CLASSES}")
        return LineClassifier(version=str(data["version"]), embedder=str(data["embedder"]),
                              cues_version=str(data["cues_version"]), weights=data["weights"], bias=data["bias"])
