"""Which ISBAR part each transcript line belongs to, decided without generating text.

First choice: the trained line classifier (``isbar_classifier``), when it fits the configured embedder. Otherwise
three votes per line: word cues (``prompts/drafting_cues.yaml``), closeness (multilingual-e5) to example lines of
each part (``prompts/isbar_lines.yaml``), and the line's place in the talk (who-we-are comes first, advice last).
A line with fewer than three words of content (fillers, "ja", "okay") belongs to no part. Runs in about a second
for a 1,500-word debrief on two cores, where one LLM pass over the same lines takes over a minute.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict

from assistant.drafting.cues import Cues
from assistant.drafting.isbar_classifier import load_classifier
from assistant.models import IsbarPart, IsbarSection, Segment
from prompts import PROMPTS_DIR

EXAMPLES_FILE = PROMPTS_DIR / "isbar_lines.yaml"
MIN_CONTENT_WORDS = 3
CUE_WEIGHT = 0.5  # per cue found, at most two counted
SIMILARITY_WEIGHT = 25.0  # e5 similarities differ by hundredths: 0.02 closer to a part's examples ≈ one cue
PLACE_WEIGHT = 0.4


class IsbarExamples(BaseModel):
    """Example lines per ISBAR part, and under ``none`` lines that belong to no part; ``version`` is stored with
    each draft."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    parts: dict[IsbarPart | Literal["none"], list[str]]


@lru_cache(maxsize=1)
def load_examples() -> IsbarExamples:
    """The example file, validated once per process."""
    return IsbarExamples.model_validate(yaml.safe_load(EXAMPLES_FILE.read_text(encoding="utf-8")))


_PARTS = list(IsbarPart)
_CLASSES: list[IsbarPart | str] = [*_PARTS, "none"]  # the last one: no part
_example_vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _examples_embedded(embedder) -> tuple[np.ndarray, np.ndarray]:
    """Example vectors and the part each belongs to, embedded once per embedder."""
    key = embedder.model_id
    if key not in _example_vectors:
        examples = load_examples()
        texts = [text for part in _CLASSES for text in examples.parts.get(part, [])]
        owners = np.array([i for i, part in enumerate(_CLASSES) for _ in examples.parts.get(part, [])])
        _example_vectors[key] = (np.asarray(embedder.embed_passages(texts)), owners)
    return _example_vectors[key]


def _place_votes(position: float) -> np.ndarray:
    votes = np.zeros(len(_CLASSES))
    votes[_CLASSES.index(IsbarPart.identifikation)] = 1.0 if position < 0.15 else 0.0
    votes[_CLASSES.index(IsbarPart.raad)] = 0.5 if position > 0.75 else 0.0
    return votes


def label_lines(segments: list[Segment], embedder, cues: Cues) -> list[IsbarPart | None]:
    """One ISBAR part (or None) per segment, in order."""
    if not segments:
        return []
    lines = np.asarray(embedder.embed_passages([s.text for s in segments]))
    classifier = load_classifier()
    if classifier is not None and classifier.fits(embedder.model_id):
        return classifier.label(segments, lines, cues)
    vectors, owners = _examples_embedded(embedder)
    similarity = lines @ vectors.T  # lines × examples
    labels: list[IsbarPart | None] = []
    placed = len(segments) >= 4  # in a short note every line is "early" and "late" at once
    for row, segment in enumerate(segments):
        if cues.content_words(segment.text) < MIN_CONTENT_WORDS or cues.asks(segment.text):
            labels.append(None)
            continue
        closest = np.array([similarity[row, owners == c].max() if (owners == c).any() else -1.0
                            for c in range(len(_CLASSES))])
        score = SIMILARITY_WEIGHT * (closest - closest.max())
        score += CUE_WEIGHT * np.array([min(cues.count(segment.text, cues.isbar.get(c, [])), 2)
                                        if c != "none" else 0 for c in _CLASSES])
        if placed:
            score += PLACE_WEIGHT * _place_votes(row / (len(segments) - 1))
        best = _CLASSES[int(score.argmax())]
        labels.append(best if isinstance(best, IsbarPart) else None)
    return labels


def labeller_version(embedder) -> str:
    """What labelled the lines, for the draft's prompt version: the classifier's version or the examples'."""
    classifier = load_classifier()
    if classifier is not None and classifier.fits(embedder.model_id):
        return f"classifier{classifier.version}"
    return load_examples().version


def sections_from_labels(segments: list[Segment], labels: list[IsbarPart | None], cues: Cues,
                         max_words: int = 60) -> list[IsbarSection]:
    """One section per part: its lines' words (fillers out, at most ``max_words``) and all its line numbers."""
    sections = []
    for part in IsbarPart:
        chosen = [s for s, label in zip(segments, labels) if label == part]
        texts, count = [], 0
        for segment in chosen:
            text = cues.content(segment.text)
            if not text or count >= max_words:
                continue
            kept = text.split()[: max_words - count]
            texts.append(" ".join(kept) + ("" if len(kept) == len(text.split()) else " …"))
            count += len(kept)
        sections.append(IsbarSection(part=part, text=" ".join(texts), segment_indices=[s.index for s in chosen]))
    return sections
