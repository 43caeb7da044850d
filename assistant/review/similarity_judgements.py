"""Learning agents' "similar" / "not similar" on pairs of cases: stored, audited, and read back as evaluation data
for the similar-case search (``debrief eval --parts retrieval``; exported with ``debrief judgements export``).

A pair is unordered: it is stored with the smaller id first, so (a, b) and (b, a) are the same pair. Each agent
holds one judgement per pair; judging again replaces it, and the audit log keeps every earlier judgement. The
judgement goes into both cases' audit trails, so each case's history shows it and erasing either case redacts
its own copy.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from assistant import audit
from assistant.auth import Actor, Permission
from assistant.cases import find_case
from assistant.errors import InvalidInput, NotFound
from assistant.store import Database
from assistant.store.tables import Case, LearningPoint, SimilarityJudgement, utcnow
from vectorstore.errors import EmptyQuery

NOTE_LIMIT = 2000
QUERY_CHARS = 2000  # enough for the titles and narratives of a case's points; the search reads less


class JudgementView(BaseModel):
    """One stored judgement, with both cases' references for people and ids for the store."""

    case_a_id: str
    case_a_reference: str = ""
    case_b_id: str
    case_b_reference: str = ""
    similar: bool
    note: str | None = None
    judged_by: str
    judged_at: dt.datetime


class JudgementRecord(BaseModel):
    """A judgement as a line of the exported evaluation file (``debrief judgements export``)."""

    kind: Literal["similarity_judgement"] = "similarity_judgement"
    case_a: str = Field(description="Reference of one case (its id when it has none).")
    case_b: str
    case_a_id: str
    case_b_id: str
    similar: bool
    note: str | None = None
    judged_by: str
    judged_at: dt.datetime


def _case(session: Session, text: str) -> Case:
    case = find_case(session, text)  # by id, or the reference a person typed ("UTH-2026-0142")
    if case is None:
        raise NotFound("record.not_found", what="record.what.case", case_id=text)
    return case


def _view(row: SimilarityJudgement, references: dict[str, str]) -> JudgementView:
    return JudgementView(case_a_id=row.case_a_id, case_a_reference=references.get(row.case_a_id, ""),
                         case_b_id=row.case_b_id, case_b_reference=references.get(row.case_b_id, ""),
                         similar=row.similar, note=row.note, judged_by=row.judged_by, judged_at=row.judged_at)


def _snapshot(row: SimilarityJudgement, references: dict[str, str]) -> dict:
    return {"case_a": references.get(row.case_a_id) or row.case_a_id,
            "case_b": references.get(row.case_b_id) or row.case_b_id,
            "similar": row.similar, "note": row.note}


def judge_similarity(db: Database, actor: Actor, case_a: str, case_b: str, similar: bool,
                     note: str | None = None) -> JudgementView:
    """Record that ``actor`` finds the two cases (ids or references, either order) similar or not; a later
    judgement by the same agent replaces this one. Learning agents and admins only; audited on both cases."""
    actor.require(Permission.decide)
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_LIMIT:
        raise InvalidInput("review.similarity_note_too_long", chars=len(note), limit=NOTE_LIMIT)
    with db.session() as session:
        first, second = sorted([_case(session, case_a), _case(session, case_b)], key=lambda c: c.id)
        if first.id == second.id:
            raise InvalidInput("review.similarity_same_case")
        references = {first.id: first.reference or "", second.id: second.reference or ""}
        row = session.scalar(select(SimilarityJudgement).where(
            SimilarityJudgement.case_a_id == first.id, SimilarityJudgement.case_b_id == second.id,
            SimilarityJudgement.judged_by == actor.name))
        before = _snapshot(row, references) if row is not None else None
        if row is None:
            row = SimilarityJudgement(case_a_id=first.id, case_b_id=second.id, judged_by=actor.name)
            session.add(row)
        row.similar, row.note, row.judged_at = bool(similar), note, utcnow()
        session.flush()
        after = _snapshot(row, references)
        for case in (first, second):
            audit.record(session, actor, "similarity_judgement", case_id=case.id, before=before, after=after,
                         note=note)
        return _view(row, references)


def _references(session: Session, rows: list[SimilarityJudgement]) -> dict[str, str]:
    ids = {r.case_a_id for r in rows} | {r.case_b_id for r in rows}
    if not ids:
        return {}
    return {case_id: reference or "" for case_id, reference in
            session.execute(select(Case.id, Case.reference).where(Case.id.in_(ids)))}


def list_judgements(db: Database) -> list[JudgementView]:
    """Every stored judgement, oldest first: the evaluation data (callers that show them check the role)."""
    with db.session() as session:
        rows = list(session.scalars(select(SimilarityJudgement).order_by(SimilarityJudgement.judged_at,
                                                                          SimilarityJudgement.id)))
        references = _references(session, rows)
        return [_view(r, references) for r in rows]


def judgements_for_case(db: Database, actor: Actor, case: str) -> list[JudgementView]:
    """The judgements that involve ``case`` (id or reference), for the learning agent reviewing it."""
    actor.require(Permission.review)
    with db.session() as session:
        case_id = _case(session, case).id
        rows = list(session.scalars(select(SimilarityJudgement).where(
            or_(SimilarityJudgement.case_a_id == case_id, SimilarityJudgement.case_b_id == case_id))
            .order_by(SimilarityJudgement.judged_at)))
        references = _references(session, rows)
        return [_view(r, references) for r in rows]


def case_query_text(session: Session, case_id: str) -> str:
    """What a case reads like to the search: its newest draft's points (title and what happened), or, before a
    draft exists, its pseudonymised transcript. The Review tab and the evaluation ask with the same text."""
    case = session.get(Case, case_id)
    if case is None:
        return ""
    if case.drafts:
        points = session.scalars(select(LearningPoint).where(LearningPoint.draft_id == case.drafts[-1].id)
                                 .order_by(LearningPoint.position))
        text = "\n".join(f"{p.title}\n{p.what_happened}" for p in points)
        if text.strip():
            return text[:QUERY_CHARS]
    if case.transcript is not None:
        return " ".join(s.text for s in case.transcript.segments)[:QUERY_CHARS]
    return ""


class SimilarForReview(BaseModel):
    """An approved earlier case like the one under review, with this agent's judgement of the pair (if any)."""

    case_id: str
    reference: str = ""
    score: float
    titles: list[str]
    similar: bool | None = None  # None: not judged yet by this agent
    note: str | None = None


def similar_for_review(db: Database, index, actor: Actor, case: str, k: int = 5) -> list[SimilarForReview]:
    """The ``k`` approved cases the search finds for the case under review (id or reference), itself left out,
    each with ``actor``'s judgement of the pair: what the agent marks "similar" or "not similar"."""
    actor.require(Permission.review)
    with db.session() as session:
        case_id = _case(session, case).id
        text = case_query_text(session, case_id)
    if not text.strip():
        return []
    try:
        matches = [m for m in index.similar_cases(text, k=k + 1) if m.case_id != case_id][:k]
    except EmptyQuery:
        return []
    mine = {(j.case_b_id if j.case_a_id == case_id else j.case_a_id): j
            for j in judgements_for_case(db, actor, case_id) if j.judged_by == actor.name}
    out = []
    for match in matches:
        judged = mine.get(match.case_id)
        out.append(SimilarForReview(
            case_id=match.case_id, reference=next((h.case_reference for h in match.points if h.case_reference), ""),
            score=match.score, titles=[h.title for h in match.points],
            similar=judged.similar if judged else None, note=judged.note if judged else None))
    return out


def export_judgements(db: Database, output: Path) -> int:
    """Write every judgement as JSONL (one :class:`JudgementRecord` a line); returns how many were written."""
    records = [JudgementRecord(case_a=j.case_a_reference or j.case_a_id, case_b=j.case_b_reference or j.case_b_id,
                               case_a_id=j.case_a_id, case_b_id=j.case_b_id, similar=j.similar, note=j.note,
                               judged_by=j.judged_by, judged_at=j.judged_at)
               for j in list_judgements(db)]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("".join(json.dumps(r.model_dump(mode="json"), ensure_ascii=False) + "\n" for r in records),
                      "utf-8")
    return len(records)
