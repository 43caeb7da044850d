"""Drafting quality on case texts with known answers, for each drafting method side by side.

Per method: ISBAR line-label macro-F1 (each line's predicted part is the first ISBAR section citing it), coverage
of the reference points, and per drafted point: polarity errors (a point marked Safety-II, or a "went well" item,
whose nearest reference point went wrong), fields that repeat another field, harm more than one level from the
nearest reference point's, and the nearest reference point's category. Per reference point that went well: whether
the draft tells it as what went well (a Safety-II point or a "went well" item), the reverse error polarity does
not count. Also time per record, by length.

Coverage and "nearest reference" use the configured embedder (multilingual-e5-small by default): a reference is
covered when some point's title and account reach cosine ``COVERAGE_THRESHOLD``; e5 puts unrelated Danish
sentences around 0.75–0.80 and paraphrases above 0.85.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator
from sklearn.metrics import f1_score

from assistant.drafting import copied_fields, draft_case_with_report
from assistant.errors import DebriefError
from assistant.llm import ChatModel
from assistant.models import CaseContext, Draft, DraftMethod, IsbarPart, Segment, Severity
from assistant.settings import Settings
from vectorstore.embeddings import make_embedder

COVERAGE_THRESHOLD = 0.85
RICH_SECONDS = 3600.0
LABELS = [p.value for p in IsbarPart]
SEVERITIES = list(Severity)


class ReferencePoint(BaseModel):
    """A point a reviewer expects, with whether it went wrong or well and how much harm it did."""

    text: str
    polarity: Literal["went_wrong", "went_well"] = "went_wrong"
    category: str | None = None
    severity: Severity | None = None


class DraftingRecord(BaseModel):
    """One line of a drafting JSONL: a pseudonymised transcript and what a reviewer expects of its draft."""

    id: str
    segments: list[Segment] = Field(min_length=1)
    context: CaseContext = Field(default_factory=CaseContext)
    reference_points: list[ReferencePoint] = Field(min_length=1)
    isbar_labels: list[str] | None = None
    style: str = "synthetic"
    language: str = "da"
    synthetic: bool = True
    severity: Severity | None = None
    source_url: str | None = None
    licence: str | None = None

    @field_validator("reference_points", mode="before")
    @classmethod
    def _plain_text_is_a_point(cls, value):
        return [{"text": v} if isinstance(v, str) else v for v in value]

    @property
    def words(self) -> int:
        return sum(len(s.text.split()) for s in self.segments)


def load_records(path: Path) -> list[DraftingRecord]:
    return [DraftingRecord.model_validate_json(line) for line in Path(path).read_text("utf-8").splitlines()
            if line.strip()]


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\[\]]+", " ", text.lower()).split())


def evidence_validity(draft: Draft, segments: list[Segment]) -> tuple[int, int]:
    """(valid, total) cited quotes: the segment id exists and its text contains the quote (normalised)."""
    by_index = {s.index: s for s in segments}
    valid = total = 0
    for point in draft.learning_points:
        for ev in point.evidence:
            total += 1
            segment = by_index.get(ev.segment_index)
            valid += bool(segment and _norm(ev.quote) in _norm(segment.text))
    return valid, total


def predicted_labels(draft: Draft, segments: list[Segment]) -> list[str]:
    """Each line's ISBAR part as the draft has it: the first section (in ISBAR order) citing it, else "none"."""
    cited: dict[int, str] = {}
    for section in sorted(draft.isbar, key=lambda s: LABELS.index(s.part.value)):
        for index in section.segment_indices:
            cited.setdefault(index, section.part.value)
    return [cited.get(s.index, "none") for s in segments]


def _similarity(embedder, a: list[str], b: list[str]) -> np.ndarray:
    if not a or not b:
        return np.zeros((len(a), len(b)))
    return np.asarray(embedder.embed_passages(a)) @ np.asarray(embedder.embed_passages(b)).T


def score_points(draft: Draft, record: DraftingRecord, embedder) -> dict:
    """Coverage of the references, and each point's polarity, repetition and harm against its nearest reference."""
    refs = record.reference_points
    points = draft.learning_points
    sims = _similarity(embedder, [r.text for r in refs], [f"{p.title}. {p.what_happened}" for p in points])
    covered = int((sims.max(axis=1) >= COVERAGE_THRESHOLD).sum()) if points else 0
    polarity = repeated = severity_off = category_right = 0
    harm: list[dict] = []
    for j, point in enumerate(points):
        nearest = refs[int(sims[:, j].argmax())]
        category_right += point.category == (nearest.category or point.category)
        went_well_sims = _similarity(embedder, point.what_went_well, [r.text for r in refs])
        well_item_wrong = any(refs[int(row.argmax())].polarity == "went_wrong" and row.max() >= COVERAGE_THRESHOLD
                              for row in went_well_sims)
        polarity += (point.safety_ii and nearest.polarity == "went_wrong") or well_item_wrong
        repeated += copied_fields(point) > 0
        reference_harm = nearest.severity or record.severity
        if reference_harm is not None:
            severity_off += abs(SEVERITIES.index(point.severity) - SEVERITIES.index(reference_harm)) > 1
        harm.append({"drafted": point.severity.value, "reference": reference_harm and reference_harm.value,
                     "asked": any(w.key == "draft.check.severity_unnamed" for w in point.warnings),
                     "went_well": point.safety_ii, "nearest_went_well": nearest.polarity == "went_well"})
    well_refs = [r.text for r in refs if r.polarity == "went_well"]
    told_well = [f"{p.title}. {p.what_happened}" for p in points if p.safety_ii] + \
        [item for p in points for item in p.what_went_well]
    well_found = int((_similarity(embedder, well_refs, told_well).max(axis=1) >= COVERAGE_THRESHOLD).sum()) \
        if told_well else 0
    return {"covered": covered, "references": len(refs), "points": len(points), "polarity_errors": polarity,
            "went_well_references": len(well_refs), "went_well_found": well_found,
            "copied": repeated, "severity_off": severity_off, "category_right": category_right, "harm": harm,
            "best_similarity": [round(float(v), 3) for v in (sims.max(axis=1) if points else np.zeros(len(refs)))]}


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def _summary(rows: list[dict], gold: list[str], predicted: list[str]) -> dict:
    done = [r for r in rows if r.get("valid")]
    total = {k: sum(r.get(k, 0) for r in done) for k in ("covered", "references", "points", "polarity_errors",
                                                          "copied", "severity_off", "category_right",
                                                          "went_well_references", "went_well_found",
                                                          "evidence_valid",
                                                          "evidence_total")}
    short = [r["seconds"] for r in done if r["words"] <= 150]
    long = [r["seconds"] for r in done if r["words"] >= 800]
    return {
        "records": len(rows), "valid_rate": _rate(len(done), len(rows)),
        "isbar_macro_f1": round(float(f1_score(gold, predicted, labels=LABELS, average="macro", zero_division=0)), 3)
        if gold else None,
        "coverage": _rate(total["covered"], total["references"]),
        "points": total["points"],
        "polarity_error_rate": _rate(total["polarity_errors"], total["points"]),
        "copied_field_rate": _rate(total["copied"], total["points"]),
        "severity_off_rate": _rate(total["severity_off"], total["points"]),
        "category_accuracy": _rate(total["category_right"], total["points"]),
        "went_well_recall": _rate(total["went_well_found"], total["went_well_references"]),
        "evidence_validity": _rate(total["evidence_valid"], total["evidence_total"]),
        "median_seconds_short": round(statistics.median(short), 1) if short else None,
        "median_seconds_long": round(statistics.median(long), 1) if long else None,
        "extractive_drafts": sum(1 for r in done if r.get("method") == DraftMethod.extractive.value),
    }


def evaluate_method(records: list[DraftingRecord], settings: Settings, chat: ChatModel, method: DraftMethod,
                    embedder) -> dict:
    """Draft every record with one method and score it."""
    rows, gold, predicted = [], [], []
    for record in records:
        row: dict = {"id": record.id, "style": record.style, "words": record.words}
        try:
            draft, trace = draft_case_with_report(record.segments, record.context, chat, settings, method=method)
        except DebriefError as exc:
            rows.append(row | {"valid": False, "error": str(exc)})
            continue
        if record.isbar_labels:
            gold += [label if label in LABELS else "none" for label in record.isbar_labels]
            predicted += predicted_labels(draft, record.segments)
        good, total = evidence_validity(draft, record.segments)
        rows.append(row | {"valid": True, "method": draft.method.value, "seconds": round(trace.seconds, 1),
                           "calls": trace.calls, "evidence_valid": good, "evidence_total": total,
                           "warnings": [w.key for w in draft.warnings + [w for p in draft.learning_points
                                                                          for w in p.warnings]],
                           **score_points(draft, record, embedder)})
    return _summary(rows, gold, predicted) | {"per_record": rows}


def evaluate(path: Path, settings: Settings, chat: ChatModel | None, limit: int | None = None,
             methods: list[DraftMethod] | None = None, rich_limit: int | None = None) -> dict:
    """Each method on the first ``limit`` records (the rich one, minutes a record, on ``rich_limit``); without a
    chat (``--skip-llm``) only the data set's format is checked."""
    records = load_records(path)[:limit]
    summary = {"records": len(records), "reference_points": sum(len(r.reference_points) for r in records),
               "real_records": sum(1 for r in records if not r.synthetic),
               "styles": {s: sum(1 for r in records if r.style == s) for s in sorted({r.style for r in records})}}
    if chat is None:
        return summary | {"skipped": "no LLM (--skip-llm)"}
    embedder = make_embedder(settings)
    out = {"model": chat.model_id, "coverage_threshold": COVERAGE_THRESHOLD, "methods": {}}
    for method in methods or [DraftMethod.small]:
        subset, run_with = records, settings
        if method == DraftMethod.rich:  # measured as it was: no time budget cuts it short
            subset = records[:rich_limit] if rich_limit else records
            run_with = settings.model_copy(update={"draft_seconds": RICH_SECONDS, "llm_call_seconds": RICH_SECONDS})
        out["methods"][method.value] = evaluate_method(subset, run_with, chat, method, embedder)
    return summary | out
