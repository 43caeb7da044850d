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
    style: str | None = None  # "asr" (speech-recogniser output), "notes" or "formal"


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


def _form(record: LabelledText, gold: GoldEntity) -> str:
    """How a gold span was written: numbers "spoken" or "written", names "lower" or "capitalised"."""
    span = record.text[gold.start : gold.end]
    if gold.type == "PERSON":
        return "lower" if span.islower() else "capitalised"
    return "written" if any(ch.isdigit() for ch in span) else "spoken"


def recall_by_form(records: list[LabelledText], pseudonymiser: Pseudonymiser) -> dict[str, dict[str, dict]]:
    """Recall per entity type and form (a spoken CPR number, a lower-case name): {type: {form: {recall, n}}}."""
    counts: dict[str, dict[str, list[int]]] = {}
    for record in records:
        found = pseudonymiser.detect(record.text)
        for gold in record.entities:
            hit = any(f.entity_type == gold.type and _overlaps(f.start, f.end, gold.start, gold.end) for f in found)
            tally = counts.setdefault(gold.type, {}).setdefault(_form(record, gold), [0, 0])
            tally[0] += int(hit)
            tally[1] += 1
    return {t: {form: {"recall": hit / n, "n": n} for form, (hit, n) in forms.items()} for t, forms in counts.items()}


def negatives_altered(records: list[LabelledText], pseudonymiser: Pseudonymiser) -> dict[str, float | int]:
    """Share of sentences with nothing personal that pseudonymisation changed, alone and all as one case."""
    negatives = [r.text for r in records if not r.entities]
    alone = sum(1 for t in negatives if pseudonymiser.pseudonymise(t).text != t)
    texts, _ = pseudonymiser.pseudonymise_many([r.text for r in records])
    in_case = sum(1 for r, out in zip(records, texts, strict=True) if not r.entities and out != r.text)
    n = max(1, len(negatives))
    return {"negatives": len(negatives), "sentence": alone / n, "whole_case": in_case / n,
            "sentence_count": alone, "whole_case_count": in_case}


def dev_and_held_out(records: list[LabelledText]) -> tuple[list[LabelledText], list[LabelledText]]:
    """Every fourth record (0, 4, 8, …) is for development; rules are tuned on these only, the rest is held out."""
    return records[::4], [r for i, r in enumerate(records) if i % 4]


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
