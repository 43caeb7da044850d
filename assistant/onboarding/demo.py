"""Synthetic demo cases, so a new installation shows every tab working: ``debrief demo load`` and ``demo clear``.

The cases are data (``demo_data/cases_da.yaml``, versioned, in Danish) and travel the real road: intake (as
notes, marked as source ``demo``), the pipeline (pseudonymisation included), then review decisions, questions to
the team, feedback and action follow-up by a learning agent named ``demo``; only the drafting model is replaced
by the drafts written in the file, so no model is needed. ``demo clear`` erases exactly the cases whose source is
``demo`` (store, index, audit content) through the ordinary erasure, which audits each removal.

Loading refuses a store that already holds the demo (load it once) and, unless forced, one that holds real cases:
demo points would otherwise count in real trends, themes and monthly reports until cleared.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from assistant import audit
from assistant.auth import Actor, Role
from assistant.errors import InvalidInput
from assistant.indexing import LearningIndexLike
from assistant.intake import submit_notes
from assistant.jobs import Components, claim_job, run_job
from assistant.learning import ActionPlan, ActionStatus, track_action
from assistant.models import (
    CaseContext,
    Draft,
    DraftMethod,
    Evidence,
    IsbarPart,
    IsbarSection,
    JobStatus,
    LearningPointDraft,
    Sector,
    Segment,
    SourceKind,
)
from assistant.review import approve, erase_case, reject, release_feedback, send_back
from assistant.settings import Settings
from assistant.store import Database
from assistant.store.tables import Case, LearningPoint

DEMO_FILE = Path(__file__).parent / "demo_data" / "cases_da.yaml"
# The first paragraph of every demo case, so nobody mistakes one for a real event wherever its text is shown.
MARKER = "[DEMO] Syntetisk sag, opdigtet for at vise Debrief. Ingen rigtige personer eller hændelser."
DEMO_AGENT = Actor(name="demo", role=Role.learning_agent)
DEMO_ADMIN = Actor(name="demo", role=Role.admin)  # erasure needs the admin's permission


class DemoSection(BaseModel):
    text: str
    lines: list[int] = Field(default_factory=list)  # paragraphs of ``notes`` (0 = the first) it rests on


class DemoDecision(BaseModel):
    """What the demo learning agent does with a point; a point without one waits in the queue."""

    action: Literal["approve", "reject", "send_back"]
    visibility: Literal["staff", "public"] = "staff"
    reason: str = "duplicate"
    note: str | None = None
    question: str = ""


class DemoFollowUp(BaseModel):
    """Follow-up of one of an approved point's suggested actions."""

    action_index: int = 0
    owner_role: str
    due_in_days: int  # from the day of loading; negative: already overdue
    status: ActionStatus = ActionStatus.planned


class DemoPoint(LearningPointDraft):
    """A drafted point as the file gives it: the lines it quotes (its evidence), and what review did with it."""

    lines: list[int] = Field(default_factory=list)
    decision: DemoDecision | None = None
    follow_up: DemoFollowUp | None = None


class DemoCase(BaseModel):
    key: str
    sector: Sector
    unit: str
    event_type: str = ""
    days_ago: int = Field(ge=0)  # the event's date, counted back from the day of loading
    notes: list[str] = Field(min_length=1)
    isbar: dict[IsbarPart, DemoSection]
    points: list[DemoPoint] = Field(min_length=1)
    feedback: str | None = None  # released to the team once every point is decided


class DemoSet(BaseModel):
    version: str
    cases: list[DemoCase]


class LoadedCase(BaseModel):
    key: str
    case_id: str
    receipt_code: str | None
    status: str


class DemoLoad(BaseModel):
    """What ``demo load`` did: one row per case (with its receipt code for the Status tab) and points by status."""

    cases: list[LoadedCase]
    points: dict[str, int]
    actions: int


@lru_cache(maxsize=1)
def demo_set(path: Path = DEMO_FILE) -> DemoSet:
    """The demo cases as validated data."""
    return DemoSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def demo_case_ids(db: Database) -> list[str]:
    """Every case ``demo load`` made (source ``demo``), oldest first."""
    with db.session() as session:
        return list(session.scalars(
            select(Case.id).where(Case.source_kind == SourceKind.demo.value).order_by(Case.created_at)
        ))


def real_case_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(
            select(func.count()).select_from(Case).where(Case.source_kind != SourceKind.demo.value)
        ) or 0


def _notes_text(case: DemoCase) -> str:
    return "\n\n".join([MARKER, *case.notes])


def _drafter(case: DemoCase, version: str):
    """A stand-in for ``draft_case`` that returns the file's draft, quoting the stored (pseudonymised) lines."""

    def draft(segments: list[Segment], context, chat, settings, *, isbar=None, progress=None) -> Draft:
        def shifted(lines: list[int]) -> list[int]:  # segment 0 is the marker
            return [line + 1 for line in lines if line + 1 < len(segments)]

        sections = [IsbarSection(part=part, text=section.text, segment_indices=shifted(section.lines))
                    for part, section in case.isbar.items()]
        points = [
            LearningPointDraft.model_validate(
                point.model_dump(exclude={"lines", "decision", "follow_up"})
                | {"evidence": [Evidence(segment_index=i, quote=segments[i].text[:160]) for i in shifted(point.lines)]}
            )
            for point in case.points
        ]
        return Draft(isbar=sections, learning_points=points, prompt_id="demo", prompt_version=version,
                     model_id="demo-data (ingen AI-model)", method=DraftMethod.rich)

    return draft


class _NoModel:
    """The demo never asks a language model; this keeps the pipeline from loading one."""

    model_id = "none"

    def complete_json(self, messages, schema, max_tokens):  # pragma: no cover - never called
        raise RuntimeError("the demo does not use a language model")

    def stream(self, messages, max_tokens):  # pragma: no cover - never called
        raise RuntimeError("the demo does not use a language model")


def load_demo(db: Database, index: LearningIndexLike, settings: Settings, components: Components, *,
              force: bool = False, today: dt.date | None = None) -> DemoLoad:
    """Fill the store with the demo cases in every state; refused when loaded already, or (unless ``force``)
    when the store holds real cases. ``components`` gives the pseudonymiser; no model is loaded."""
    if demo_case_ids(db):
        raise InvalidInput("onboarding.demo_loaded_already")
    real = real_case_count(db)
    if real and not force:
        raise InvalidInput("onboarding.demo_real_cases", count=real)
    today = today or dt.date.today()
    data = demo_set()
    loaded: list[LoadedCase] = []
    actions = 0
    for case in data.cases:
        context = CaseContext(sector=case.sector, unit=case.unit, event_type=case.event_type,
                              event_date=today - dt.timedelta(days=case.days_ago))
        submission = submit_notes(db, settings, _notes_text(case), context, demo=True)
        _draft(db, components, case, data.version, submission.job_id)
        with db.session() as session:
            audit.record(session, DEMO_ADMIN, "demo_case_loaded", case_id=submission.case_id,
                         after={"demo": case.key, "version": data.version})
            point_ids = list(session.scalars(
                select(LearningPoint.id).where(LearningPoint.case_id == submission.case_id)
                .order_by(LearningPoint.position)
            ))
        for point, point_id in zip(case.points, point_ids, strict=True):
            actions += _decide(db, index, point, point_id, today)
        if case.feedback:
            release_feedback(db, DEMO_AGENT, submission.case_id, case.feedback)
        with db.session() as session:
            status = session.get(Case, submission.case_id).status
        loaded.append(LoadedCase(key=case.key, case_id=submission.case_id, receipt_code=submission.receipt_code,
                                 status=status))
    return DemoLoad(cases=loaded, points=_point_counts(db), actions=actions)


def _draft(db: Database, components: Components, case: DemoCase, version: str, job_id: str) -> None:
    """Run the case's job here, with the file's draft; claimed at once, so a running app's worker leaves it."""
    demo_components = Components(components.settings, pseudonymiser_=components.pseudonymiser, chat_=_NoModel(),
                                 drafter=_drafter(case, version))
    owner = f"demo-load:{job_id[:8]}"
    if not claim_job(db, job_id, owner):
        raise InvalidInput("onboarding.demo_job_taken")
    done = run_job(db, demo_components, job_id, owner=owner, claimed=True)
    if done.status != JobStatus.done:
        raise InvalidInput("onboarding.demo_job_failed", error=done.error or done.error_key or "")


def _decide(db: Database, index: LearningIndexLike, point: DemoPoint, point_id: str, today: dt.date) -> int:
    """The demo agent's decision on one point (and its action follow-up); returns the actions tracked."""
    decision = point.decision
    if decision is None:
        return 0
    if decision.action == "approve":
        approve(db, index, DEMO_AGENT, point_id, visibility=decision.visibility, note=decision.note)
    elif decision.action == "reject":
        reject(db, index, DEMO_AGENT, point_id, reason=decision.reason, note=decision.note)
    else:
        send_back(db, DEMO_AGENT, point_id, question=decision.question)
    if point.follow_up is None:
        return 0
    plan = ActionPlan(owner_role=point.follow_up.owner_role, status=point.follow_up.status,
                      due_date=today + dt.timedelta(days=point.follow_up.due_in_days))
    track_action(db, DEMO_AGENT, point_id, action_index=point.follow_up.action_index, plan=plan)
    return 1


def _point_counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        rows = session.execute(
            select(LearningPoint.status, func.count()).join(Case, Case.id == LearningPoint.case_id)
            .where(Case.source_kind == SourceKind.demo.value).group_by(LearningPoint.status)
        )
        return {status: count for status, count in rows}


def clear_demo(db: Database, index: LearningIndexLike, settings: Settings) -> int:
    """Erase every demo case (and only those) everywhere, each erasure audited; returns how many went."""
    case_ids = demo_case_ids(db)
    for case_id in case_ids:
        erase_case(db, index, settings, DEMO_ADMIN, case_id, reason="demo")
    return len(case_ids)
