"""Precision and recall of the pseudonymiser on a labelled set of sentences, per entity type.

Run: ``python -m assistant.privacy.scoring tests/data/pseudonymisation_da.jsonl``
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from assistant.privacy.pseudonymise import ENTITY_TYPES, DetectedEntity, Pseudonymiser


class GoldEntity(BaseModel):
    start: int
    end: int
    type: str


class LabelledText(BaseModel):
    """One record of the evaluation set: a sentence and where its personal data sits."""

    text: str
    entities: list[GoldEntity]
    synthetic: bool = True


class TypeScore(BaseModel):
    precision: float
    recall: float
    tp: int
    fp: int
    fn: int


def load_records(path: Path) -> list[LabelledText]:
    """Records from a JSON-lines file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [LabelledText.model_validate_json(line) for line in lines if line.strip()]


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def evaluate(
    records: Iterable[LabelledText | dict], pseudonymiser: Pseudonymiser | None = None
) -> dict[str, dict[str, float | int]]:
    """Per entity type: precision, recall, tp, fp, fn, matching spans by overlap and type.

    ``tp`` counts gold spans found; ``fp`` counts detected spans that overlap no gold span of their type.
    """
    pseudonymiser = pseudonymiser or Pseudonymiser()
    counts = {t: {"tp": 0, "fp": 0, "fn": 0} for t in ENTITY_TYPES}
    for record in records:
        record = record if isinstance(record, LabelledText) else LabelledText.model_validate(record)
        found: list[DetectedEntity] = pseudonymiser.detect(record.text)
        for gold in record.entities:
            hit = any(f.entity_type == gold.type and _overlaps(f.start, f.end, gold.start, gold.end) for f in found)
            counts[gold.type]["tp" if hit else "fn"] += 1
        for f in found:
            if not any(g.type == f.entity_type and _overlaps(f.start, f.end, g.start, g.end) for g in record.entities):
                counts[f.entity_type]["fp"] += 1
    scores = {}
    for entity_type, c in counts.items():
        detected_right = c["tp"]
        precision = detected_right / (detected_right + c["fp"]) if detected_right + c["fp"] else 1.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        scores[entity_type] = TypeScore(precision=precision, recall=recall, **c).model_dump()
    return scores


def main(argv: list[str] | None = None) -> int:
    """Print the per-type table for a JSON-lines file (default: the shipped Danish test set)."""
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Path("tests/data/pseudonymisation_da.jsonl")
    records = load_records(path)
    started = time.perf_counter()
    pseudonymiser = Pseudonymiser()
    loaded = time.perf_counter()
    scores = evaluate(records, pseudonymiser)
    done = time.perf_counter()
    print(f"{'type':<8} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4}")
    for entity_type, s in scores.items():
        print(
            f"{entity_type:<8} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['tp']:>4} {s['fp']:>4} {s['fn']:>4}"
        )
    print(
        f"{len(records)} records; engine load {loaded - started:.2f} s; "
        f"{1000 * (done - loaded) / max(1, len(records)):.1f} ms per record"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
