"""Reading a case back: what ``debrief show`` and the review screens display (pseudonymised only)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from pydantic import BaseModel, ConfigDict

from assistant import audit
from assistant.auth import Actor, Permission
from assistant.cases.lookup import find_case
from assistant.errors import InvalidInput, NotAllowed, NotFound
from assistant.models import DraftMethod, DraftWarning, IsbarSection, JobProgress, Segment
from assistant.references import point_reference
from assistant.settings import Settings
from assistant.speech import SAMPLE_RATE, decode_window_16k_mono
from assistant.store import Database
from assistant.store.tables import AudioFile, Case, utcnow


class LearningPointView(BaseModel):
    id: str
    reference: str = ""  # "UTH-2026-0142/2", what people read and type
    number: int | None = None
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
    warnings: list[DraftWarning] = []  # what the drafting checks found and repaired, for the reviewer
    # Whose account the point was drafted from: "patient" / "relative" marks it "from a patient or relative".
    reporter_type: str = "staff"


class CaseView(BaseModel):
    """A case as people may see it: transcript, ISBAR and learning points, never the pseudonym map."""

    id: str
    reference: str = ""  # "UTH-2026-0142", what people read and type
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
    draft_method: DraftMethod | None = None
    draft_warnings: list[DraftWarning] = []
    jobs: list[JobProgress] = []
    audio_kept: bool = False  # the recording was kept with consent and is still there: evidence can be played
    reporter_type: str = "staff"  # who told it: staff, or a patient or relative on the open report page


def point_view(point, case_reference: str | None) -> LearningPointView:
    """A stored learning point as people may see it, with its reference."""
    view = LearningPointView.model_validate(point, from_attributes=True)
    view.reference = point_reference(case_reference, point.number)
    return view


def warning_text(warning: DraftWarning, language: str) -> str:
    """A drafting check's finding in the reader's language."""
    from assistant.i18n import translate

    return translate(warning.key, language, **warning.params)


def load_case(db: Database, case_id: str) -> CaseView:
    """The newest draft of ``case_id`` with its transcript; NotFound when there is no such case."""
    from assistant.jobs import job_progress

    with db.session() as session:
        case = find_case(session, case_id)
        if case is None:
            raise NotFound("record.not_found", what="record.what.case", case_id=case_id)
        view = CaseView(
            id=case.id,
            reference=case.reference or "",
            source_kind=case.source_kind,
            status=case.status,
            sector=case.sector,
            unit=case.unit,
            event_date=case.event_date,
            event_type=case.event_type,
            created_at=case.created_at,
            reporter_type=case.reporter_type or "staff",
        )
        if case.transcript is not None:
            view.transcript_model = case.transcript.model_id
            view.segments = [
                Segment(index=s.index, start=s.start, end=s.end, text=s.text, speaker=s.speaker, words=s.words or [])
                for s in case.transcript.segments
            ]
        if case.drafts:
            draft = case.drafts[-1]
            view.isbar = [IsbarSection.model_validate(s) for s in draft.isbar]
            view.prompt = f"{draft.prompt_id}@{draft.prompt_version}"
            view.draft_model = draft.model_id
            view.draft_method = DraftMethod(draft.method)
            view.draft_warnings = [DraftWarning.model_validate(w) for w in draft.warnings or []]
            view.learning_points = [point_view(lp, case.reference) for lp in draft.learning_points]
            for point in view.learning_points:
                point.reporter_type = view.reporter_type
        job_ids = [j.id for j in sorted(case.jobs, key=lambda j: j.created_at)]
        view.audio_kept = _kept_recording(case) is not None
    view.jobs = [job_progress(db, job_id) for job_id in job_ids]
    return view


def may_read_case(actor: Actor, reporter_id: str | None) -> bool:
    """A case is its reporter's to read, and readable by those who may read every case (learning agents)."""
    if actor.can(Permission.read_any_case):
        return True
    return actor.user_id is not None and actor.user_id == reporter_id


def case_for_reader(session, actor: Actor, case_id: str) -> Case:
    """The case (by id or reference) if ``actor`` may read it; else ``NotFound`` or ``NotAllowed``."""
    case = find_case(session, case_id)
    if case is None:
        raise NotFound("record.not_found", what="record.what.case", case_id=case_id)
    if not may_read_case(actor, case.reporter_id):
        raise NotAllowed("auth.not_allowed", role=actor.role.value)
    return case


def require_case_reader(db: Database, actor: Actor, case_id: str) -> None:
    """Refuse with ``NotAllowed`` unless ``actor`` may read ``case_id`` (NotFound when there is none)."""
    with db.session() as session:
        case_for_reader(session, actor, case_id)


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


# -- listening to the evidence -------------------------------------------------------------------------------

CLIP_PADDING_SECONDS = 1.0  # a second either side, so the cited words are not cut off mid-syllable
MAX_CLIP_SECONDS = 30.0  # enough to hear a cited line; a long segment plays only its start


class AudioClip(BaseModel):
    """A stretch of a kept recording around a cited segment, as 16 kHz mono float32 samples."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    case_id: str
    start: float  # where the clip begins in the recording, in seconds
    end: float
    sample_rate: int = SAMPLE_RATE
    samples: np.ndarray

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate

    def as_pcm16(self) -> np.ndarray:
        """The samples as 16-bit PCM, what players and WAV files take."""
        return (np.clip(self.samples, -1.0, 1.0) * 32767).astype(np.int16)


def _kept_recording(case: Case) -> AudioFile | None:
    """The case's recording if it was kept with consent and its retention has not ended (purge may lag)."""
    if not case.keep_audio:
        return None
    now = utcnow()
    for row in case.audio:
        if row.deleted_at is None and (row.delete_after is None or row.delete_after > now):
            return row
    return None


def audio_clip(db: Database, settings: Settings, actor: Actor, case_id: str, start: float, end: float) -> AudioClip:
    """The recording from ``start`` to ``end`` seconds, padded and capped, for a reviewer to hear the evidence.

    The recording holds real names and voices, so only roles that read any case may listen, each listening is
    audited, and a case whose audio was not kept (or has been deleted) refuses with a translated NotFound.
    """
    actor.require(Permission.read_any_case)
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end < start:
        raise InvalidInput("case.clip_bad_times", start=start, end=end)
    with db.session() as session:
        case = find_case(session, case_id)
        if case is None:
            raise NotFound("record.not_found", what="record.what.case", case_id=case_id)
        case_id = case.id  # it may have been named by its reference
        row = _kept_recording(case)
        path = settings.audio_dir / row.stored_name if row is not None else None
    if path is None or not path.is_file():
        raise NotFound("case.audio_not_kept", case_id=case_id)
    clip_start = max(0.0, start - CLIP_PADDING_SECONDS)
    clip_end = min(end + CLIP_PADDING_SECONDS, clip_start + MAX_CLIP_SECONDS)
    samples = decode_window_16k_mono(path, clip_start, clip_end)
    if samples.size == 0:
        raise InvalidInput("case.clip_outside", start=round(start, 1))
    clip_end = clip_start + len(samples) / SAMPLE_RATE
    with db.session() as session:
        audit.record(session, actor, "audio_played", case_id=case_id,
                     after={"start": round(clip_start, 2), "end": round(clip_end, 2)})
    return AudioClip(case_id=case_id, start=clip_start, end=clip_end, samples=samples)


def segment_clip(db: Database, settings: Settings, actor: Actor, case_id: str, segment_index: int) -> AudioClip:
    """The recording around transcript segment ``segment_index`` (what a cited piece of evidence points to)."""
    actor.require(Permission.read_any_case)
    with db.session() as session:
        case = find_case(session, case_id)
        if case is None:
            raise NotFound("record.not_found", what="record.what.case", case_id=case_id)
        case_id = case.id
        found = [(s.start, s.end) for s in (case.transcript.segments if case.transcript else [])
                 if s.index == segment_index]
    if not found:
        raise NotFound("case.segment_not_found", index=segment_index, case_id=case_id)
    start, end = found[0]
    return audio_clip(db, settings, actor, case_id, start, end)
