"""The learning-agent review: a small state machine per learning point, role-checked and audited.

    draft ──approve──► approved ──reopen──► draft
      │  └─return──► returned ──approve/reject──► …
      │                 └──the team answers──► draft (back in the queue, question and answer kept)
      └──reject──► rejected ──reopen──► draft

Only approved points are in the learning index. An approval (or edit) writes the index inside its transaction:
a failed index write (a full disk) rolls the decision back, so it can be tried again, and a commit that fails after
the write takes the entry out again. A point leaves the index before the commit that rejects or reopens it, so a
crash never leaves a withdrawn point searchable; a process killed between index write and commit leaves an
orphan, which ``assistant.indexing.recovery`` removes on the next start.
"""

from __future__ import annotations

import datetime as dt
import logging
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import event, func, select

from assistant import audit
from assistant.auth import Actor, Permission
from assistant.cases import CaseView, LearningPointView, find_point, load_case
from assistant.errors import InvalidInput, NotFound
from assistant.indexing import LearningIndexLike, indexed_point
from assistant.models import CaseStatus, Sector, Severity, SuggestedAction
from assistant.review.case_thread import Author, MessageKind, add_message
from assistant.store import Database
from assistant.store.tables import Case, LearningPoint, utcnow

log = logging.getLogger(__name__)


class PointStatus(StrEnum):
    draft = "draft"
    approved = "approved"
    rejected = "rejected"
    returned = "returned"


class RejectReason(StrEnum):
    not_a_learning_point = "not_a_learning_point"
    duplicate = "duplicate"
    insufficient_evidence = "insufficient_evidence"
    wrong_facts = "wrong_facts"
    personal_data = "personal_data"
    blame = "blame"
    other = "other"


Visibility = Literal["staff", "public"]

_ALLOWED: dict[str, set[PointStatus]] = {
    "approve": {PointStatus.draft, PointStatus.returned, PointStatus.rejected},
    "reject": {PointStatus.draft, PointStatus.returned, PointStatus.approved},
    "return": {PointStatus.draft},
    "reopen": {PointStatus.approved, PointStatus.rejected, PointStatus.returned},
    "answer": {PointStatus.returned},
}


class PointEdit(BaseModel):
    """What a learning agent may change in a drafted point; unset fields stay as they are."""

    title: str | None = Field(None, min_length=3, max_length=200)
    what_happened: str | None = Field(None, min_length=1)
    contributing_factors: list[str] | None = None
    what_went_well: list[str] | None = None
    suggested_actions: list[SuggestedAction] | None = None
    category: str | None = None
    severity: Severity | None = None
    safety_ii: bool | None = None


class QueueFilters(BaseModel):
    sectors: list[Sector] = []
    unit: str | None = None
    category: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    statuses: list[CaseStatus] = [CaseStatus.awaiting_review, CaseStatus.in_review]


class QueueItem(BaseModel):
    case_id: str
    reference: str = ""  # "UTH-2026-0142"
    status: str
    sector: str
    unit: str
    event_date: dt.date | None
    event_type: str
    created_at: dt.datetime
    pending_points: int
    categories: list[str]
    reporter_type: str = "staff"  # a patient's or relative's account is marked in the queue


def _snapshot(point: LearningPoint) -> dict[str, Any]:
    """What the audit log keeps as "before"/"after": everything a reviewer can change."""
    view = LearningPointView.model_validate(point, from_attributes=True)
    return view.model_dump(mode="json", exclude={"id", "reference", "number", "position", "evidence"})


def review_queue(db: Database, actor: Actor, filters: QueueFilters | None = None) -> list[QueueItem]:
    """Cases awaiting a learning agent, oldest first, narrowed by ``filters``."""
    actor.require(Permission.review)
    filters = filters or QueueFilters()
    with db.session() as session:
        query = select(Case).where(Case.status.in_([s.value for s in filters.statuses])).order_by(Case.created_at)
        if filters.sectors:
            query = query.where(Case.sector.in_([s.value for s in filters.sectors]))
        if filters.unit:
            query = query.where(func.lower(Case.unit).contains(filters.unit.lower()))
        if filters.since:
            query = query.where(Case.event_date >= filters.since)
        if filters.until:
            query = query.where(Case.event_date <= filters.until)
        items = []
        for case in session.scalars(query):
            points = case.drafts[-1].learning_points if case.drafts else []
            categories = sorted({p.category for p in points})
            if filters.category and filters.category not in categories:
                continue
            items.append(
                QueueItem(
                    case_id=case.id, reference=case.reference or "", status=case.status, sector=case.sector,
                    unit=case.unit,
                    event_date=case.event_date, event_type=case.event_type, created_at=case.created_at,
                    pending_points=sum(p.status in (PointStatus.draft, PointStatus.returned) for p in points),
                    categories=categories,
                    reporter_type=case.reporter_type or "staff",
                )
            )
        return items


def open_case(db: Database, actor: Actor, case_id: str) -> CaseView:
    """A case for review: drafts beside the transcript segments they cite."""
    actor.require(Permission.read_any_case)
    return load_case(db, case_id)


def _point(session, point_id: str) -> LearningPoint:
    """A point that may be decided now: from its case's newest draft, with no new draft being made."""
    point = find_point(session, point_id)  # by id, or by the reference a person typed ("UTH-2026-0142/2")
    if point is None:
        raise NotFound("record.not_found", what="record.what.point", point_id=point_id)
    case = session.get(Case, point.case_id)
    # After the transcript was edited, the old draft is history: a decision on it would be lost from view.
    if case.drafts and case.drafts[-1].id != point.draft_id:
        raise InvalidInput("review.superseded_draft")
    if any(job.status in ("queued", "running") for job in case.jobs):
        raise InvalidInput("review.redraft_running")
    return point


def _check(action: str, point: LearningPoint) -> None:
    if PointStatus(point.status) not in _ALLOWED[action]:
        raise InvalidInput("review.bad_transition", action=action, status=point.status)


def _update_case_status(session, case_id: str) -> None:
    case = session.get(Case, case_id)
    points = case.drafts[-1].learning_points if case.drafts else []
    open_points = [p for p in points if p.status in (PointStatus.draft, PointStatus.returned)]
    if not open_points and points:
        case.status = CaseStatus.decided.value
    elif any(p.status != PointStatus.draft for p in points):
        case.status = CaseStatus.in_review.value
    else:
        case.status = CaseStatus.awaiting_review.value


def _index_before_commit(session, index: LearningIndexLike, point: LearningPoint, previous=None) -> None:
    """Write the point to the index inside the decision's transaction; if the commit fails, put back what the
    index held before (``previous``, or nothing).

    An index write that fails (a full disk) rolls the decision back, so it can simply be tried again; a commit that
    fails after the write leaves nothing the store does not hold; a process killed in between leaves an orphan that
    ``assistant.indexing.recovery`` removes when the app starts.
    """
    index.upsert([indexed_point(point, session.get(Case, point.case_id))])

    def put_back(_session, _transaction) -> None:
        try:
            index.upsert([previous]) if previous is not None else index.delete([point.id])
        except Exception:  # the store is the truth; the next start repairs the index (recovery)
            log.exception("could not restore the index entry of %s after a failed commit", point.id)

    event.listen(session, "after_soft_rollback", put_back, once=True)


def edit_point(db: Database, index: LearningIndexLike, actor: Actor, point_id: str, edit: PointEdit) -> None:
    """Change a drafted point's text, category or severity; audited with before/after."""
    from prompts import category_ids

    actor.require(Permission.decide)
    changes = edit.model_dump(exclude_none=True, mode="json")
    if "category" in changes and changes["category"] not in category_ids():
        raise InvalidInput("review.unknown_category", category=changes["category"])
    with db.session() as session:
        point = _point(session, point_id)
        before = _snapshot(point)
        case = session.get(Case, point.case_id)
        indexed = indexed_point(point, case) if point.status == PointStatus.approved else None
        for name, value in changes.items():
            setattr(point, name, value)
        point.updated_at = utcnow()
        session.flush()
        audit.record(session, actor, "edit", case_id=point.case_id, learning_point_id=point.id,
                     before=before, after=_snapshot(point))
        if point.status == PointStatus.approved:
            _index_before_commit(session, index, point, previous=indexed)


def approve(db: Database, index: LearningIndexLike, actor: Actor, point_id: str, *,
            visibility: Visibility = "staff", note: str | None = None) -> None:
    """Approve a point: it becomes searchable at once (``public`` also for anonymous readers)."""
    actor.require(Permission.decide)
    with db.session() as session:
        point = _point(session, point_id)
        _check("approve", point)
        before = _snapshot(point)
        point.status, point.visibility = PointStatus.approved.value, visibility
        point.reject_reason, point.decision_note = None, note
        point.decided_by, point.decided_at = actor.name, utcnow()
        session.flush()
        audit.record(session, actor, "approve", case_id=point.case_id, learning_point_id=point.id,
                     before=before, after=_snapshot(point), note=note)
        _update_case_status(session, point.case_id)
        _index_before_commit(session, index, point)


def reject(db: Database, index: LearningIndexLike, actor: Actor, point_id: str, *,
           reason: RejectReason | str, note: str | None = None) -> None:
    """Reject with a reason from the fixed list (plus free text); leaves the index at once if it was there."""
    actor.require(Permission.decide)
    try:
        reason = RejectReason(reason)
    except ValueError as error:
        raise InvalidInput("review.unknown_reason", reason=str(reason)) from error
    with db.session() as session:
        point = _point(session, point_id)
        _check("reject", point)
        before = _snapshot(point)
        point.status, point.reject_reason, point.decision_note = PointStatus.rejected.value, reason.value, note
        point.decided_by, point.decided_at = actor.name, utcnow()
        session.flush()
        audit.record(session, actor, "reject", case_id=point.case_id, learning_point_id=point.id,
                     before=before, after=_snapshot(point), note=note)
        _update_case_status(session, point.case_id)
        index.delete([point.id])


def send_back(db: Database, actor: Actor, point_id: str, *, question: str) -> None:
    """Return a point to the team with a question; it stays out of the index until decided again.

    The reporter sees the question on the status page (by receipt code or login) and may answer it once;
    a new question replaces an earlier question and its answer (the audit log keeps both).
    """
    actor.require(Permission.decide)
    if not question or not question.strip():
        raise InvalidInput("review.question_required")
    with db.session() as session:
        point = _point(session, point_id)
        _check("return", point)
        before = _snapshot(point)
        point.status, point.decision_note = PointStatus.returned.value, question.strip()
        point.reporter_question, point.reporter_answer, point.reporter_answered_at = question.strip(), None, None
        point.decided_by, point.decided_at = actor.name, utcnow()
        session.flush()
        audit.record(session, actor, "return", case_id=point.case_id, learning_point_id=point.id,
                     before=before, after=_snapshot(point), note=question.strip())
        add_message(session, point.case_id, Author.agent, MessageKind.question, question.strip(), actor.name,
                    point_id=point.id)
        _update_case_status(session, point.case_id)


def reopen(db: Database, index: LearningIndexLike, actor: Actor, point_id: str, *, note: str | None = None) -> None:
    """Undo a decision (un-approve): the point is a draft again and leaves the index at once."""
    actor.require(Permission.decide)
    with db.session() as session:
        point = _point(session, point_id)
        _check("reopen", point)
        before = _snapshot(point)
        point.status, point.reject_reason, point.decision_note = PointStatus.draft.value, None, note
        point.decided_by, point.decided_at = None, None
        session.flush()
        audit.record(session, actor, "reopen", case_id=point.case_id, learning_point_id=point.id,
                     before=before, after=_snapshot(point), note=note)
        _update_case_status(session, point.case_id)
        index.delete([point.id])


def apply_reporter_answer(session, actor: Actor, point: LearningPoint, answer: str) -> None:
    """The team's answer to a returned point, inside the caller's unit of work: the point is a draft again and
    its case is back in the review queue, with question and answer shown to the agent; audited.

    ``answer`` must already be pseudonymised (see ``assistant.review.reporter_status.answer_question_by_receipt``).
    """
    _check("answer", point)
    before = _snapshot(point)
    point.status, point.reporter_answer, point.reporter_answered_at = PointStatus.draft.value, answer, utcnow()
    point.decided_by, point.decided_at = None, None
    point.updated_at = utcnow()
    session.flush()
    audit.record(session, actor, "reporter_answer", case_id=point.case_id, learning_point_id=point.id,
                 before=before, after=_snapshot(point))
    add_message(session, point.case_id, Author.reporter, MessageKind.answer, answer, actor.name, point_id=point.id)
    _update_case_status(session, point.case_id)
