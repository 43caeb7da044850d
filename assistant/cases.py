"""Reading a case back: what ``debrief show`` and the review screens display (pseudonymised only)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from assistant.auth import Actor, Permission
from assistant.errors import NotAllowed, NotFound
from assistant.models import IsbarSection, JobProgress, Segment
from assistant.store import Database
from assistant.store.tables import Case


class LearningPointView(BaseModel):
    id: str
    position: int
    title: str
    what_happened: str
    contributing_factors: list[str]
    what_went_well: list[str]
    suggested_actions: list[dict]
    category: str
    severity: str
    safety_ii: bool
    evidence: list[dict]
    status: str
    visibility: str
    reject_reason: str | None = None
    decision_note: str | None = None
    reporter_question: str | None = None  # the agent's question when the point was sent back to the team
    reporter_answer: str | None = None  # the team's answer, pseudonymised
    reporter_answered_at: dt.datetime | None = None


class CaseView(BaseModel):
    """A case as people may see it: transcript, ISBAR and learning points, never the pseudonym map."""

    id: str
    source_kind: str
    status: str
    sector: str
    unit: str
    event_date: dt.date | None
    event_type: str
    created_at: dt.datetime
    transcript_model: str | None = None
    segments: list[Segment] = []
    isbar: list[IsbarSection] = []
    learning_points: list[LearningPointView] = []
    prompt: str | None = None
    draft_model: str | None = None
    jobs: list[JobProgress] = []


def load_case(db: Database, case_id: str) -> CaseView:
    """The newest draft of ``case_id`` with its transcript; NotFound when there is no such case."""
    from assistant.jobs import job_progress

    with db.session() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("record.not_found", what="record.what.case", case_id=case_id)
        view = CaseView(
            id=case.id,
            source_kind=case.source_kind,
            status=case.status,
            sector=case.sector,
            unit=case.unit,
            event_date=case.event_date,
            event_type=case.event_type,
            created_at=case.created_at,
        )
        if case.transcript is not None:
            view.transcript_model = case.transcript.model_id
            view.segments = [
                Segment(index=s.index, start=s.start, end=s.end, text=s.text, speaker=s.speaker)
                for s in case.transcript.segments
            ]
        if case.drafts:
            draft = case.drafts[-1]
            view.isbar = [IsbarSection.model_validate(s) for s in draft.isbar]
            view.prompt = f"{draft.prompt_id}@{draft.prompt_version}"
            view.draft_model = draft.model_id
            view.learning_points = [
                LearningPointView.model_validate(lp, from_attributes=True) for lp in draft.learning_points
            ]
        job_ids = [j.id for j in sorted(case.jobs, key=lambda j: j.created_at)]
    view.jobs = [job_progress(db, job_id) for job_id in job_ids]
    return view


def may_read_case(actor: Actor, reporter_id: str | None) -> bool:
    """A case is its reporter's to read, and readable by those who may read every case (learning agents)."""
    if actor.can(Permission.read_any_case):
        return True
    return actor.user_id is not None and actor.user_id == reporter_id


def require_case_reader(db: Database, actor: Actor, case_id: str) -> None:
    """Refuse with ``NotAllowed`` unless ``actor`` may read ``case_id`` (NotFound when there is none)."""
    with db.session() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("record.not_found", what="record.what.case", case_id=case_id)
        if not may_read_case(actor, case.reporter_id):
            raise NotAllowed("auth.not_allowed", role=actor.role.value)


def load_case_for(db: Database, actor: Actor, case_id: str) -> CaseView:
    """``load_case`` for someone acting in the app: only the case's reporter, or a role that reads any case."""
    require_case_reader(db, actor, case_id)
    return load_case(db, case_id)


def format_timestamp(seconds: float) -> str:
    """``mm:ss`` (or ``h:mm:ss``) for transcript lines and evidence links."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
