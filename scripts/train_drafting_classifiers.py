"""Train the drafting's text classifiers (``prompts/harm_classifier.npz``, ``prompts/category_classifier.npz``).

    .venv/bin/python scripts/train_drafting_classifiers.py [--corpus FILE ...] [--check-only]

Each record is read as drafting reads it (the shipped ISBAR labeller chooses the lines) and embedded:
- **harm**: the event lines (Situation, Analyse), learnt against the record's reference severity mapped to mild /
  moderat / alvorlig (``TRAINED_AS``). Records whose lines name the harm train too: how serious harm reads matters
  more than whether a list word is there. Scored on the records whose lines name no harm (the only ones it drafts):
  how often it is more than one level from the reference, beside always "mild" and always "moderat".
- **category**: every line but Råd, learnt against the first reference point's category. Scored where the words
  do not decide (no category word, or a tie; the only records it drafts), beside the word vote alone.

Both are scored in folds that hold out one corpus at a time, then fitted on every record and written. The defaults
are the four sets already spent (the tuning set and the first three fresh sets). ``drafting_fresh4_da.jsonl`` is
held out for scoring the result: never train on it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from assistant.drafting.cues import Cues, load_cues
from assistant.drafting.harm_classifier import DRAFTED, HARM_CLASSIFIER, MARGIN, TRAINED_AS
from assistant.drafting.isbar_lines import label_lines
from assistant.drafting.small_model import CATEGORY_CLASSIFIER, event_harm_text
from assistant.drafting.text_classifier import TextClassifier, classifier_file, text_features
from assistant.evaluation.drafting import load_records
from assistant.models import IsbarPart, Severity
from assistant.settings import Settings
from vectorstore.embeddings import make_embedder

VERSION = "2"
STRENGTH = {HARM_CLASSIFIER: 10.0, CATEGORY_CLASSIFIER: 30.0}  # 1–30 / 10–300 scored alike in the held-out folds
DATA = Path("tests/data")
CORPORA = [DATA / "drafting_real_da.jsonl", DATA / "drafting_fresh_da.jsonl", DATA / "drafting_fresh2_da.jsonl",
           DATA / "drafting_fresh3_da.jsonl"]
HELD_OUT = "drafting_fresh4_da.jsonl"
ORDER = list(Severity)


@dataclass
class Example:
    corpus: int
    harm_vector: np.ndarray
    harm_named: bool
    severity: Severity | None
    case_vector: np.ndarray
    word_category: str | None  # the single category the words name most, None on a tie or no word
    category: str | None


def _word_category(text: str, cues: Cues) -> str | None:
    votes = {cid: cues.count(text, words) for cid, words in cues.categories.items()}
    top = max(votes.values(), default=0)
    leaders = [cid for cid, n in votes.items() if n == top and n > 0]
    return leaders[0] if len(leaders) == 1 else None


def _examples(corpora: list[Path]) -> tuple[list[Example], str]:
    embedder, cues = make_embedder(Settings()), load_cues()
    examples = []
    for number, path in enumerate(corpora):
        for record in load_records(path):
            segments = [s for s in record.segments if s.text.strip()]
            labels = label_lines(segments, embedder, cues)
            harm = event_harm_text(segments, labels)
            case = " ".join(s.text for s, label in zip(segments, labels) if label != IsbarPart.raad)
            vectors = np.asarray(embedder.embed_passages([harm, case]))
            categories = [p.category for p in record.reference_points if p.category]
            examples.append(Example(number, text_features(vectors[0]), cues.severity_of(harm) is not None,
                                    record.severity, text_features(vectors[1]), _word_category(case, cues),
                                    categories[0] if categories else None))
    return examples, embedder.model_id


def _fit(name: str, features: np.ndarray, gold: list[str]) -> LogisticRegression:
    return LogisticRegression(C=STRENGTH[name], max_iter=5000, class_weight="balanced").fit(features, gold)


def _decide(name: str, model: LogisticRegression, features: np.ndarray) -> list[str]:
    """What drafting would choose: the most probable class, except that harm stays mild unless another level beats
    it by more than ``MARGIN`` (as ``estimate_harm`` does)."""
    if name != HARM_CLASSIFIER:
        return list(model.predict(features))
    classes = list(model.classes_)
    mild = classes.index(Severity.mild.value)
    return [classes[mild] if row.max() - row[mild] <= MARGIN else classes[int(row.argmax())]
            for row in model.predict_proba(features)]


def _held_out_predictions(name: str, examples: list[Example], vector, gold, scored) -> list[tuple[Example, str]]:
    """(example, prediction) for every scored example, each predicted by a model that never saw its corpus."""
    out = []
    for corpus in sorted({e.corpus for e in examples}):
        train = [e for e in examples if e.corpus != corpus and gold(e) is not None]
        test = [e for e in examples if e.corpus == corpus and scored(e)]
        if test:
            model = _fit(name, np.vstack([vector(e) for e in train]), [gold(e) for e in train])
            out += list(zip(test, _decide(name, model, np.vstack([vector(e) for e in test]))))
    return out


def _off(drafted: Severity, reference: Severity) -> bool:
    return abs(ORDER.index(drafted) - ORDER.index(reference)) > 1


def _write(name: str, examples, vector, gold, classes: list[str], embedder_id: str) -> None:
    used = [e for e in examples if gold(e) is not None]
    model = _fit(name, np.vstack([vector(e) for e in used]), [gold(e) for e in used])
    known = list(model.classes_)
    rows = [known.index(c) for c in classes if c in known]
    TextClassifier(version=VERSION, embedder=embedder_id, classes=tuple(c for c in classes if c in known),
                   weights=model.coef_[rows], bias=model.intercept_[rows]).save(classifier_file(name))
    print(f"wrote {classifier_file(name)} (version {VERSION}, embedder {embedder_id})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, nargs="+", default=CORPORA)
    parser.add_argument("--check-only", action="store_true", help="score in held-out folds only; write nothing")
    args = parser.parse_args()
    if any(path.name == HELD_OUT for path in args.corpus):
        raise SystemExit(f"{HELD_OUT} is the held-out set: score on it, never train on it")
    examples, embedder_id = _examples(args.corpus)
    print(f"{len(examples)} records from {len(args.corpus)} corpora")

    def harm_gold(e: Example) -> str | None:
        return TRAINED_AS[e.severity].value if e.severity is not None else None

    harm = _held_out_predictions(HARM_CLASSIFIER, examples, lambda e: e.harm_vector, harm_gold,
                                 lambda e: e.severity is not None and not e.harm_named)
    references = [e.severity for e, _ in harm]
    print(f"harm, {len(harm)} records whose event lines name none, more than one level off: "
          f"classifier {sum(_off(Severity(p), e.severity) for e, p in harm)}, "
          f"always mild {sum(_off(Severity.mild, r) for r in references)}, "
          f"always moderat {sum(_off(Severity.moderate, r) for r in references)}")

    category = _held_out_predictions(CATEGORY_CLASSIFIER, examples, lambda e: e.case_vector, lambda e: e.category,
                                     lambda e: e.category is not None and e.word_category is None)
    decided = [e for e in examples if e.category is not None and e.word_category is not None]
    print(f"category, {len(category)} records the words do not decide: classifier right "
          f"{sum(p == e.category for e, p in category)}; the {len(decided)} the words decide: words right "
          f"{sum(e.word_category == e.category for e in decided)}")
    if args.check_only:
        return
    _write(HARM_CLASSIFIER, examples, lambda e: e.harm_vector, harm_gold, [s.value for s in DRAFTED], embedder_id)
    taxonomy = sorted({e.category for e in examples if e.category is not None})
    _write(CATEGORY_CLASSIFIER, examples, lambda e: e.case_vector, lambda e: e.category, taxonomy, embedder_id)


if __name__ == "__main__":
    main()
