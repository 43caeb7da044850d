"""Train the drafting's category classifier (``prompts/category_classifier.npz``) on labelled drafting sets.

    .venv/bin/python scripts/train_category_classifier.py [--corpus FILE ...] [--check-only]

Each record is read as drafting reads it (the shipped ISBAR labeller chooses the lines; every line but Råd is
embedded) and learnt against its first reference point's category. Drafting asks the classifier only where the
category words do not decide (no word, or a tie), so that is where it is scored, beside the words where they do
decide: in folds that hold out one corpus at a time. Then it is fitted on every record and written.

The defaults are the four sets the shipped classifier was trained on (the tuning set and the first three fresh
sets); the fourth and fifth are spent too and may be added with ``--corpus``. ``drafting_fresh6_da.jsonl`` and
``drafting_fresh7_da.jsonl`` are held out for scoring the result: never train on them.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from assistant.drafting.cues import Cues, load_cues
from assistant.drafting.isbar_lines import label_lines
from assistant.drafting.small_model import CATEGORY_CLASSIFIER
from assistant.drafting.text_classifier import TextClassifier, classifier_file, text_features
from assistant.evaluation.drafting import load_records
from assistant.models import IsbarPart
from assistant.settings import Settings
from vectorstore.embeddings import make_embedder

VERSION = "2"
STRENGTH = 30.0  # inverse regularisation; 10–300 scored alike in the held-out-corpus folds
DATA = Path("tests/data")
CORPORA = [DATA / "drafting_real_da.jsonl", DATA / "drafting_fresh_da.jsonl", DATA / "drafting_fresh2_da.jsonl",
           DATA / "drafting_fresh3_da.jsonl"]
HELD_OUT = ("drafting_fresh6_da.jsonl", "drafting_fresh7_da.jsonl")


@dataclass
class Example:
    corpus: int
    vector: np.ndarray
    word_category: str | None  # the single category the words name most, None on a tie or no word
    category: str


def _word_category(text: str, cues: Cues) -> str | None:
    """The category the words decide, as drafting reads them (``Cues.category_leaders``); None on a tie or none."""
    leaders = cues.category_leaders(text)
    return leaders[0] if len(leaders) == 1 else None


def _examples(corpora: list[Path]) -> tuple[list[Example], str]:
    embedder, cues = make_embedder(Settings()), load_cues()
    examples = []
    for number, path in enumerate(corpora):
        for record in load_records(path):
            categories = [p.category for p in record.reference_points if p.category]
            if not categories:
                continue
            segments = [s for s in record.segments if s.text.strip()]
            labels = label_lines(segments, embedder, cues)
            case = " ".join(s.text for s, label in zip(segments, labels) if label != IsbarPart.raad)
            examples.append(Example(number, text_features(np.asarray(embedder.embed_passages([case]))[0]),
                                    _word_category(case, cues), categories[0]))
    return examples, embedder.model_id


def _fit(examples: list[Example]) -> LogisticRegression:
    return LogisticRegression(C=STRENGTH, max_iter=5000, class_weight="balanced").fit(
        np.vstack([e.vector for e in examples]), [e.category for e in examples])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, nargs="+", default=CORPORA)
    parser.add_argument("--check-only", action="store_true", help="score in held-out folds only; write nothing")
    args = parser.parse_args()
    held_out = [path.name for path in args.corpus if path.name in HELD_OUT]
    if held_out:
        raise SystemExit(f"{', '.join(held_out)}: held out, to score on, never to train on")
    examples, embedder_id = _examples(args.corpus)

    right = open_ = 0
    for corpus in sorted({e.corpus for e in examples}):
        test = [e for e in examples if e.corpus == corpus and e.word_category is None]
        if test:
            model = _fit([e for e in examples if e.corpus != corpus])
            right += sum(p == e.category for p, e in zip(model.predict(np.vstack([e.vector for e in test])), test))
            open_ += len(test)
    decided = [e for e in examples if e.word_category is not None]
    words_right = sum(e.word_category == e.category for e in decided)
    print(f"{len(examples)} records from {len(args.corpus)} corpora")
    print(f"{open_} records the words leave open: classifier right {right}; {len(decided)} the words decide: "
          f"right {words_right}; all: {(right + words_right) / len(examples):.0%} right, one corpus held out")
    if args.check_only:
        return

    model = _fit(examples)
    TextClassifier(version=VERSION, embedder=embedder_id, classes=tuple(model.classes_), weights=model.coef_,
                   bias=model.intercept_).save(classifier_file(CATEGORY_CLASSIFIER))
    print(f"wrote {classifier_file(CATEGORY_CLASSIFIER)} (version {VERSION}, embedder {embedder_id})")


if __name__ == "__main__":
    main()
