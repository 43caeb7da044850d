"""Drafting quality: schema-valid rate, retry rate, coverage of reference points, and evidence validity.

Coverage: a reference point counts as covered when some draft point's text (title + what happened) has cosine
similarity ≥ ``COVERAGE_THRESHOLD`` with it under the configured embedder (multilingual-e5-small by default;
e5 puts unrelated Danish sentences around 0.75–0.80, paraphrases above 0.85).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from assistant.drafting import draft_case_with_report
from assistant.errors import DebriefError
from assistant.llm import ChatModel
from assistant.models import CaseContext, Draft, Segment
from assistant.settings import Settings
from vectorstore.embeddings import make_embedder

COVERAGE_THRESHOLD = 0.85


class DraftingRecord(BaseModel):
    """One line of the drafting JSONL: a pseudonymised transcript and the points a reviewer expects."""

    id: str
    segments: list[Segment] = Field(min_length=1)
    context: CaseContext = Field(default_factory=CaseContext)
    reference_points: list[str] = Field(min_length=1, description="Each: a title and one sentence, as text.")
    synthetic: bool = True


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


def coverage(draft: Draft, references: list[str], embedder) -> tuple[int, list[float]]:
    """How many reference points some draft point matches, and each reference's best similarity."""
    texts = [f"{p.title}. {p.what_happened}" for p in draft.learning_points]
    if not texts:
        return 0, [0.0] * len(references)
    sims = np.asarray(embedder.embed_passages(references)) @ np.asarray(embedder.embed_passages(texts)).T
    best = sims.max(axis=1)
    return int((best >= COVERAGE_THRESHOLD).sum()), [round(float(b), 3) for b in best]


def evaluate(path: Path, settings: Settings, chat: ChatModel | None, limit: int | None = None) -> dict:
    """Draft every record with ``chat``; without a chat (``--skip-llm``) only check the data set's format."""
    records = load_records(path)[:limit]
    if chat is None:
        return {"skipped": "no LLM (--skip-llm)", "records": len(records),
                "reference_points": sum(len(r.reference_points) for r in records)}
    embedder = make_embedder(settings)
    rows, valid_drafts, attempts, chunks = [], 0, 0, 0
    covered = references = ev_valid = ev_total = dropped = 0
    for record in records:
        row: dict = {"id": record.id}
        try:
            draft, report = draft_case_with_report(record.segments, record.context, chat, settings)
        except DebriefError as exc:
            row |= {"valid": False, "error": str(exc)}
            attempts += settings.llm_max_retries + 1
            references += len(record.reference_points)
            rows.append(row)
            continue
        valid_drafts += 1
        attempts += report.attempts
        chunks += report.chunks
        hit, best = coverage(draft, record.reference_points, embedder)
        good, total = evidence_validity(draft, record.segments)
        covered, references = covered + hit, references + len(record.reference_points)
        ev_valid, ev_total, dropped = ev_valid + good, ev_total + total, dropped + report.dropped_evidence
        row |= {"valid": True, "points": len(draft.learning_points), "covered": hit,
                "references": len(record.reference_points), "best_similarity": best, "evidence_valid": good,
                "evidence_total": total, "evidence_dropped_by_validator": report.dropped_evidence,
                "attempts": report.attempts, "seconds": round(report.seconds, 1)}
        rows.append(row)
    return {
        "records": len(records), "model": chat.model_id, "coverage_threshold": COVERAGE_THRESHOLD,
        "schema_valid_rate": round(valid_drafts / len(records), 3) if records else None,
        "retry_rate": round((attempts - chunks) / attempts, 3) if attempts else None,
        "coverage": round(covered / references, 3) if references else None,
        "evidence_validity": round(ev_valid / ev_total, 3) if ev_total else None,
        "evidence_dropped_by_validator": dropped, "per_record": rows,
    }
