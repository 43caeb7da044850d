"""Small trained classifiers that read a text's multilingual-e5 vector: drafting questions the bundled 1.5B model
answered worse than a logistic regression learnt from labelled published cases (today: the category).

Each is one weight matrix in ``prompts/<name>.npz``, remade by ``scripts/train_category_classifier.py``, with the
classes it chooses among and the embedder it fits (its ``model_id``): with any other embedder the caller falls back
to asking the model. Inference is one matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from prompts import PROMPTS_DIR


def text_features(vector: np.ndarray) -> np.ndarray:
    """The text's e5 passage vector; training and drafting both call this, so they cannot drift apart."""
    return np.asarray(vector, dtype=np.float32).reshape(-1)


@dataclass(frozen=True)
class TextClassifier:
    """Trained weights and what they fit: ``embedder`` (model id), ``version`` (stored with each draft)."""

    version: str
    embedder: str
    classes: tuple[str, ...]
    weights: np.ndarray  # classes × features
    bias: np.ndarray  # classes

    def fits(self, embedder_id: str) -> bool:
        return embedder_id == self.embedder

    def choose(self, vector: np.ndarray) -> str:
        return self.classes[int(np.argmax(self.weights @ text_features(vector) + self.bias))]

    def save(self, path: Path) -> None:
        np.savez_compressed(path, version=self.version, embedder=self.embedder, classes=np.array(self.classes),
                            weights=self.weights.astype(np.float32), bias=self.bias.astype(np.float32))


def classifier_file(name: str) -> Path:
    return PROMPTS_DIR / f"{name}.npz"


@lru_cache(maxsize=8)
def load_text_classifier(name: str) -> TextClassifier | None:
    """The shipped classifier ``name``, or None when its file is missing."""
    path = classifier_file(name)
    if not path.exists():
        return None
    with np.load(path) as data:
        return TextClassifier(version=str(data["version"]), embedder=str(data["embedder"]),
                              classes=tuple(str(c) for c in data["classes"]), weights=data["weights"],
                              bias=data["bias"])


def fitting_classifier(name: str, embedder) -> TextClassifier | None:
    """The shipped classifier ``name`` when it was trained for ``embedder``; else None (ask the model)."""
    classifier = load_text_classifier(name)
    return classifier if classifier is not None and classifier.fits(embedder.model_id) else None


def classify(name: str, text: str, embedder) -> str | None:
    """The class the shipped classifier ``name`` chooses for ``text``, or None when none fits ``embedder``."""
    classifier = fitting_classifier(name, embedder)
    if classifier is None or not text.strip():
        return None
    return classifier.choose(np.asarray(embedder.embed_passages([text]))[0])


def classifier_version(name: str, embedder) -> str:
    """What answers this question for ``embedder``, for the draft's record: the classifier's version or "model"."""
    classifier = fitting_classifier(name, embedder)
    return f"classifier{classifier.version}" if classifier is not None else "model"
