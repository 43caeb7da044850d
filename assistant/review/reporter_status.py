"""What a reporter sees of their case: by receipt code (no account) or as its logged-in reporter."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import object_session

from assistant.auth import Actor, Role
from assistant.cases import LookupLimiter, find_case, receipt_hash, require_case_reader
from assistant.errors import InvalidInput, NotFound
from assistant.models import CaseStatus, JobProgress
from assistant.references import point_reference
from assistant.review.case_thread import ThreadMessage, thread_of
from assistant.store import Database
from assistant.store.tables import Case, LearningPoint, PseudonymEntry

ANSWER_MAX_CHARS = 4000
# Who the audit log names for an answer given with a receipt code: the code itself is never recorded.
RECEIPT_HOLDER = Actor(name="receipt-holder", role=Role.reporter)


class ApprovedPoint(BaseModel):
    id: str
    reference: str = ""
    title: str
    what_happened: str
    what_went_well: list[str]
    suggested_actions: list[str]
    category: str


class QuestionFromAgent(BaseModel):
    """A learning point the agent sent back to the team, with the question the team is asked to answer."""

    point_id: str
    reference: str = ""
    title: str
    question: str
    asked_at: dt.datetime | None = None


class ReporterStatus(BaseModel):
    """Status, the agent's open questions, the approved learning points once the case is decided and the
    released message — nothing else (a failed job shows only its translated error key, never its raw text)."""

    case_id: str
    reference: str = ""  # "UTH-2026-0142": what the reporter can quote when they call
    status: str
    created_at: dt.datetime
    job: JobProgress | None = None
    questions: list[QuestionFromAgent] = []
    approved_points: list[ApprovedPoint] = []
    points_total: int = 0
    feedback: str | None = None
    feedback_released_at: dt.datetime | None = None
    messages: list[ThreadMessage] = []  # the thread with the learning agent, oldest first (case_thread)


def _status(db: Database, case: Case) -> ReporterStatus:
    from assistant.jobs import job_progress

    points = case.drafts[-1].learning_points if case.drafts else []
    latest_job = max(case.jobs, key=lambda j: j.created_at) if case.jobs else None
    released = case.feedback if case.feedback and case.feedback.status == "released" else None
    # A job's raw error can quote an exception (and with it the transcript): reporters get the message key only.
    job = job_progress(db, latest_job.id).model_copy(update={"error": None}) if latest_job else None
    # Approved points may still be reopened while the case is in review; the reporter sees them once decided.
    decided = case.status == CaseStatus.decided.value
    return ReporterStatus(
        case_id=case.id,
        reference=case.reference or "",
        status=case.status,
        created_at=case.created_at,
        job=job,
        questions=[
            QuestionFromAgent(point_id=p.id, reference=point_reference(case.reference, p.number), title=p.title,
                              question=p.reporter_question or p.decision_note or "",
                              asked_at=p.decided_at)
            for p in points if p.status == "returned"
        ],
        points_total=len(points),
        approved_points=[
            ApprovedPoint(
                id=p.id, reference=point_reference(case.reference, p.number), title=p.title,
                what_happened=p.what_happened, what_went_well=p.what_went_well,
                suggested_actions=[a.get("action", "") for a in p.suggested_actions], category=p.category,
            )
            for p in points if decided and p.status == "approved"
        ],
        feedback=released.text if released else None,
        feedback_released_at=released.released_at if released else None,
        messages=thread_of(object_session(case), case),
    )


def job_error_message(error_key: str | None, language: str = "da") -> str:
    """What a reporter reads when their case's job failed: the error key's message, or a general sentence when
    that message needs details (sizes, model names, reasons) that only staff see."""
    from string import Formatter

    from assistant.i18n import translate

    message = translate(error_key or "error.unexpected", language)
    if error_key is None or any(field is not None for _, field, _, _ in Formatter().parse(message)):
        return translate("job.failed_reporter", language)
    return message


def _case_by_receipt(session, code: str) -> Case:
    """The case a receipt code belongs to; the same NotFound for every wrong code."""
    case = session.scalar(select(Case).where(Case.receipt_hash == receipt_hash(code)))
    if case is None:
        raise NotFound("record.not_found", what="record.what.receipt")
    return case


def status_by_receipt(db: Database, code: str, *, client: str | None = None,
                      limiter: LookupLimiter | None = None) -> ReporterStatus:
    """The case behind a receipt code; NotFound for any wrong code (no hint whether it was close).

    With a ``limiter``, each ``client`` gets only so many lookups a minute (right or wrong code alike).
    """
    if limiter is not None:
        limiter.check(client or "unknown")
    with db.session() as session:
        return _status(db, _case_by_receipt(session, code))


def status_for_reporter(db: Database, actor: Actor, case_id: str) -> ReporterStatus:
    """A logged-in reporter's own case (or any case for those who may read all)."""
    require_case_reader(db, actor, case_id)
    with db.session() as session:
        return _status(db, find_case(session, case_id))


def my_cases(db: Database, actor: Actor) -> list[ReporterStatus]:
    """The logged-in reporter's cases, newest first."""
    if actor.user_id is None:
        return []
    with db.session() as session:
        cases = session.scalars(
            select(Case).where(Case.reporter_id == actor.user_id).order_by(Case.created_at.desc())
        ).all()
        return [_status(db, c) for c in cases]


def answer_question_by_receipt(db: Database, pseudonymiser, code: str, point_id: str, answer: str, *,
                               client: str | None = None, limiter: LookupLimiter | None = None) -> ReporterStatus:
    """The team's answer to a question the agent sent back, given with the case's receipt code.

    Counted by ``limiter`` like a lookup (so codes cannot be tried through this door either); a wrong code and a
    point of another case are the same NotFound. Returns the reporter's status after the answer.
    """
    if limiter is not None:
        limiter.check(client or "unknown")
    with db.session() as session:
        case_id = _case_by_receipt(session, code).id
    return _answer(db, pseudonymiser, RECEIPT_HOLDER, case_id, point_id, answer)


def answer_question_as_reporter(db: Database, pseudonymiser, actor: Actor, point_id: str,
                                answer: str) -> ReporterStatus:
    """The logged-in reporter's answer to a question the agent sent back on one of their own cases."""
    with db.session() as session:
        point = session.get(LearningPoint, point_id)
        case = session.get(Case, point.case_id) if point is not None else None
        if case is None or actor.user_id is None or case.reporter_id != actor.user_id:
            # Only the case's own reporter answers for the team; others learn nothing about the point.
            raise NotFound("record.not_found", what="record.what.point", point_id=point_id)
        case_id = case.id
    return _answer(db, pseudonymiser, actor, case_id, point_id, answer)


def _answer(db: Database, pseudonymiser, actor: Actor, case_id: str, point_id: str, answer: str) -> ReporterStatus:
    """Pseudonymise the answer with the case's own map (so a name keeps its placeholder), then store it."""
    from assistant.jobs import known_pseudonyms
    from assistant.review.decisions import PointStatus, apply_reporter_answer

    answer = (answer or "").strip()
    if not answer:
        raise InvalidInput("review.answer_required")
    if len(answer) > ANSWER_MAX_CHARS:
        raise InvalidInput("review.answer_too_long", chars=len(answer), limit=ANSWER_MAX_CHARS)
    with db.session() as session:
        point = session.get(LearningPoint, point_id)
        if point is None or point.case_id != case_id:
            raise NotFound("record.not_found", what="record.what.point", point_id=point_id)
        if point.status != PointStatus.returned.value:
            raise InvalidInput("review.no_open_question")
    known = known_pseudonyms(db, case_id)
    texts, entities = pseudonymiser.pseudonymise_many([answer], known=known)
    stored = {e.placeholder for e in known}
    with db.session() as session:
        point = session.get(LearningPoint, point_id)
        if point.status != PointStatus.returned.value:  # answered (or decided) meanwhile
            raise InvalidInput("review.no_open_question")
        session.add_all(
            PseudonymEntry(case_id=case_id, placeholder=e.placeholder, entity_type=e.entity_type, original=e.original)
            for e in entities if e.placeholder not in stored
        )
        apply_reporter_answer(session, actor, point, texts[0])
    with db.session() as session:
        return _status(db, session.get(Case, case_id))
