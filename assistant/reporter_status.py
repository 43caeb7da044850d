"""What a reporter sees of their case: by receipt code (no account) or as its logged-in reporter."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import select

from assistant.auth import Actor
from assistant.errors import NotAllowed, NotFound
from assistant.models import JobProgress
from assistant.receipts import LookupLimiter, receipt_hash
from assistant.store import Database
from assistant.store.tables import Case


class ApprovedPoint(BaseModel):
    id: str
    title: str
    what_happened: str
    what_went_well: list[str]
    suggested_actions: list[str]
    category: str


class ReporterStatus(BaseModel):
    """Status, the approved learning points and the learning agent's released message — nothing else."""

    case_id: str
    status: str
    created_at: dt.datetime
    job: JobProgress | None = None
    approved_points: list[ApprovedPoint] = []
    points_total: int = 0
    feedback: str | None = None
    feedback_released_at: dt.datetime | None = None


def _status(db: Database, case: Case) -> ReporterStatus:
    from assistant.jobs import job_progress

    points = case.drafts[-1].learning_points if case.drafts else []
    latest_job = max(case.jobs, key=lambda j: j.created_at) if case.jobs else None
    released = case.feedback if case.feedback and case.feedback.status == "released" else None
    return ReporterStatus(
        case_id=case.id,
        status=case.status,
        created_at=case.created_at,
        job=job_progress(db, latest_job.id) if latest_job else None,
        points_total=len(points),
        approved_points=[
            ApprovedPoint(
                id=p.id, title=p.title, what_happened=p.what_happened, what_went_well=p.what_went_well,
                suggested_actions=[a.get("action", "") for a in p.suggested_actions], category=p.category,
            )
            for p in points if p.status == "approved"
        ],
        feedback=released.text if released else None,
        feedback_released_at=released.released_at if released else None,
    )


def status_by_receipt(db: Database, code: str, *, client: str | None = None,
                      limiter: LookupLimiter | None = None) -> ReporterStatus:
    """The case behind a receipt code; NotFound for any wrong code (no hint whether it was close).

    With a ``limiter``, each ``client`` gets only so many lookups a minute (right or wrong code alike).
    """
    if limiter is not None:
        limiter.check(client or "unknown")
    with db.session() as session:
        case = session.scalar(select(Case).where(Case.receipt_hash == receipt_hash(code)))
        if case is None:
            raise NotFound("record.not_found", what="Kvitteringskoden")
        return _status(db, case)


def status_for_reporter(db: Database, actor: Actor, case_id: str) -> ReporterStatus:
    """A logged-in reporter's own case (or any case for those who may read all)."""
    from assistant.auth import Permission

    with db.session() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("record.not_found", what=f"Sag {case_id}")
        if case.reporter_id != actor.user_id and not actor.can(Permission.read_any_case):
            raise NotAllowed("auth.not_allowed", role=actor.role.value)
        return _status(db, case)


def my_cases(db: Database, actor: Actor) -> list[ReporterStatus]:
    """The logged-in reporter's cases, newest first."""
    if actor.user_id is None:
        return []
    with db.session() as session:
        cases = session.scalars(
            select(Case).where(Case.reporter_id == actor.user_id).order_by(Case.created_at.desc())
        ).all()
        return [_status(db, c) for c in cases]
