"""Intake: a recording or typed notes become a case with a queued job, or a clear error with nothing stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import uuid
from pathlib import Path

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant import audit
from assistant.auth import Actor, Permission, Role
from assistant.cases import case_for_reader, may_read_case, new_receipt_code, receipt_hash
from assistant.errors import InvalidInput
from assistant.jobs import Components, known_pseudonyms
from assistant.models import (
    CaseContext,
    CaseStatus,
    IsbarPart,
    IsbarSection,
    JobStatus,
    PendingSegment,
    ReporterType,
    SourceKind,
    Stage,
)
from assistant.settings import Settings
from assistant.speech import audio
from assistant.store import Database
from assistant.store.tables import AudioFile, Case, Job, LearningPoint, PseudonymEntry, utcnow

MAX_NOTES_CHARS = 200_000
# Control characters other than tab/newline carry no meaning in notes and break rendering.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Submission(BaseModel):
    """What the submitter gets back. The receipt code is shown once and never stored in clear."""

    case_id: str
    job_id: str
    reference: str = ""  # "UTH-2026-0142": what the team can read, say and quote
    receipt_code: str | None = Field(None, description="Shown only when the case is made; null when the same "
                                                       "content was handed in before (duplicate).")
    duplicate: bool = Field(False, description="True when this is the submitter's earlier case with the same "
                                               "content (a replay), not a new one.")


class _Submitter(BaseModel):
    """Who hands in: a logged-in actor (role checked here), or just a reporter id (CLI and scripts)."""

    actor: Actor | None = None
    reporter_id: str | None = None
    # An integration on the REST API: its token owns what it hands in, as a reporter owns theirs.
    api_token_id: str | None = None
    # Someone on the open report page: never handed an earlier case, whoever's it is.
    anonymous: bool = False

    @classmethod
    def of(cls, actor: Actor | None, reporter_id: str | None, permission: Permission = Permission.submit,
           api_token_id: str | None = None) -> _Submitter:
        if actor is None:
            return cls(reporter_id=reporter_id, api_token_id=api_token_id)
        actor.require(permission)
        return cls(actor=actor, reporter_id=actor.user_id, api_token_id=api_token_id)

    def may_read(self, case: Case) -> bool:
        if self.anonymous:
            return False
        if self.api_token_id is not None:
            return case.api_token_id == self.api_token_id
        if self.actor is not None:
            return may_read_case(self.actor, case.reporter_id)
        return case.reporter_id == self.reporter_id


def _existing(db: Database, content_hash: str, submitter: _Submitter) -> Submission | None:
    """The earlier case with the same content, for whoever may read it; anyone else only hears it came before.

    Content hashes are global, so without the check identical notes would hand a stranger someone's case.
    """
    with db.session() as session:
        case = session.scalar(select(Case).where(Case.content_hash == content_hash))
        if case is None:
            return None
        if not submitter.may_read(case):
            raise InvalidInput("case.already_received")
        job = max(case.jobs, key=lambda j: j.created_at)
        return Submission(case_id=case.id, job_id=job.id, reference=case.reference or "", duplicate=True)


def _new_case(
    session: Session,
    kind: SourceKind,
    content_hash: str,
    receipt: str,
    context: CaseContext,
    reporter_id: str | None,
    reporter_type: ReporterType = ReporterType.staff,
    **source: object,
) -> Case:
    """The case row every kind of submission starts with; only the receipt's hash is kept."""
    case = Case(
        reporter_type=reporter_type.value,
        source_kind=kind.value,
        content_hash=content_hash,
        receipt_hash=receipt_hash(receipt),
        reporter_id=reporter_id,
        sector=context.sector.value,
        unit=context.unit,
        event_date=context.event_date,
        event_type=context.event_type,
        **source,
    )
    session.add(case)
    session.flush()
    return case


def submit_recording(
    db: Database, settings: Settings, path: Path, context: CaseContext, *, reporter_id: str | None = None,
    actor: Actor | None = None, api_token_id: str | None = None,
) -> Submission:
    """Validate a recording, keep it under a generated name, and queue it.

    A duplicate returns the existing case (without its receipt code) to its reporter, a role that reads any
    case, or the API token that handed it in (``api_token_id``); anyone else is told it was handed in before.
    With ``actor`` the role is checked and the actor is the reporter.
    """
    return _submit_recording(db, settings, Path(path), context, _Submitter.of(actor, reporter_id,
                                                                              api_token_id=api_token_id))


PUBLIC_REPORT_PRIORITY = -10


def job_priority(reporter_type: ReporterType) -> int:
    """Higher runs first: public reports wait behind staff work, so anonymous load cannot starve the team."""
    return 0 if reporter_type == ReporterType.staff else PUBLIC_REPORT_PRIORITY


def _submit_recording(
    db: Database, settings: Settings, path: Path, context: CaseContext, submitter: _Submitter,
    reporter_type: ReporterType = ReporterType.staff,
) -> Submission:
    reporter_id = submitter.reporter_id
    info = audio.validate_recording(Path(path), settings)  # InvalidAudio (also for silence) before anything is stored
    found = _existing(db, info.sha256, submitter)
    if found:
        return found
    settings.audio_dir.mkdir(parents=True, exist_ok=True)
    stored_name = f"{uuid.uuid4().hex}{_safe_suffix(info.container)}"
    target = settings.audio_dir / stored_name
    partial = target.with_suffix(".partial")
    try:
        shutil.copyfile(path, partial)
        os.replace(partial, target)
        receipt = new_receipt_code()
        with db.session() as session:
            case = _new_case(
                session, SourceKind.audio, info.sha256, receipt, context, reporter_id, reporter_type,
                keep_audio=context.keep_audio, api_token_id=submitter.api_token_id,
            )
            delete_after = utcnow() + dt.timedelta(days=settings.keep_audio_days) if context.keep_audio else None
            session.add(
                AudioFile(
                    case_id=case.id,
                    sha256=info.sha256,
                    size_bytes=info.size_bytes,
                    duration_seconds=info.duration_seconds,
                    stored_name=stored_name,
                    delete_after=delete_after,
                )
            )
            job = Job(case_id=case.id, stage=Stage.decoding.value, priority=job_priority(reporter_type))
            session.add(job)
            # Whether the team let the recording be kept decides when it is deleted, so the choice is on record.
            name = reporter_id or ("public" if submitter.anonymous else "cli")
            who = submitter.actor or Actor(user_id=reporter_id, name=name, role=Role.reporter)
            audit.record(session, who, "recording_consent", case_id=case.id,
                         after={"keep_audio": bool(context.keep_audio)})
            session.flush()
            return Submission(case_id=case.id, job_id=job.id, reference=case.reference, receipt_code=receipt)
    except BaseException as error:
        partial.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        if isinstance(error, IntegrityError) and (found := _existing(db, info.sha256, submitter)):
            return found  # the same recording handed in twice at once (a double click): the other one won
        raise


def _safe_suffix(container: str) -> str:
    name = (container or "").split(",")[0].strip().lower()
    return "." + name if re.fullmatch(r"[a-z0-9]{1,8}", name) else ".audio"


def clean_notes(text: str) -> str:
    """Typed notes without control characters; refuses empty or oversized notes with a translated error."""
    cleaned = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not cleaned:
        raise InvalidInput("input.empty_notes")
    if len(cleaned) > MAX_NOTES_CHARS:
        raise InvalidInput("input.notes_too_long", chars=len(cleaned), limit=MAX_NOTES_CHARS)
    return cleaned


def notes_to_segments(text: str) -> list[PendingSegment]:
    """Paragraphs (blank-line separated) become the notes' segments, so evidence can point at them."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return [PendingSegment(text=p) for p in paragraphs]


def submit_notes(
    db: Database,
    settings: Settings,
    text: str,
    context: CaseContext,
    *,
    reporter_id: str | None = None,
    actor: Actor | None = None,
    api_token_id: str | None = None,
    demo: bool = False,
) -> Submission:
    """Queue typed notes (free text); duplicates as for :func:`submit_recording`.

    ``demo`` marks synthetic notes (``debrief demo load``) as source ``demo``, the mark ``demo clear`` goes by.
    """
    submitter = _Submitter.of(actor, reporter_id, api_token_id=api_token_id)
    cleaned = clean_notes(text)
    kind = SourceKind.demo if demo else SourceKind.notes
    return _submit_segments(db, notes_to_segments(cleaned), context, kind, submitter)


def submit_guide_notes(
    db: Database,
    settings: Settings,
    actor: Actor,
    notes: list[tuple[str, IsbarPart | None]],
    context: CaseContext,
    *,
    guide_id: str,
) -> Submission:
    """Queue a facilitator's notes taken phase by phase; each phase's ISBAR part goes straight to the draft.

    Only roles that facilitate (facilitator, learning agent, admin) may; the actor is the case's reporter.
    """
    submitter = _Submitter.of(actor, None, Permission.facilitate)
    segments = [PendingSegment(text=clean_notes(text), isbar_part=part) for text, part in notes if text.strip()]
    if not segments:
        raise InvalidInput("input.empty_notes")
    return _submit_segments(db, segments, context, SourceKind.guide, submitter, guide_id=guide_id)


def _submit_segments(
    db: Database,
    segments: list[PendingSegment],
    context: CaseContext,
    kind: SourceKind,
    submitter: _Submitter,
    *,
    guide_id: str | None = None,
    reporter_type: ReporterType = ReporterType.staff,
) -> Submission:
    digest = hashlib.sha256("\n\n".join(s.text for s in segments).encode()).hexdigest()
    found = _existing(db, digest, submitter)
    if found:
        return found
    receipt = new_receipt_code()
    try:
        with db.session() as session:
            case = _new_case(session, kind, digest, receipt, context, submitter.reporter_id, reporter_type,
                             guide_id=guide_id, api_token_id=submitter.api_token_id)
            job = Job(
                case_id=case.id,
                priority=job_priority(reporter_type),
                stage=Stage.pseudonymisation.value,
                pending_segments=[s.model_dump(mode="json") for s in segments],
            )
            session.add(job)
            session.flush()
            return Submission(case_id=case.id, job_id=job.id, reference=case.reference, receipt_code=receipt)
    except IntegrityError:
        if found := _existing(db, digest, submitter):
            return found  # the same notes handed in twice at once (a double click): the other one won
        raise


# -- correcting the transcript before drafting again -----------------------------------------------------------

_NUMBERED_LINE = re.compile(r"^\[(\d{1,6})\][ \t]?(.*)$")


def numbered_segments(segments: list[tuple[int, str]]) -> str:
    """A transcript as editable text: one ``[index] text`` line per segment (a paragraph's own lines follow)."""
    return "\n".join(f"[{index}] {text}" for index, text in segments)


def parse_numbered_segments(text: str) -> dict[int, str]:
    """Read back what :func:`numbered_segments` wrote (and a person edited); a translated refusal if unreadable."""
    found: dict[int, list[str]] = {}
    current: int | None = None
    for line in _CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n")).split("\n"):
        match = _NUMBERED_LINE.match(line)
        if match:
            current = int(match[1])
            if current in found:
                raise InvalidInput("case.revision_unreadable")
            found[current] = [match[2]]
        elif current is not None:
            found[current].append(line)
        elif line.strip():
            raise InvalidInput("case.revision_unreadable")  # text before the first numbered line belongs nowhere
    if not found:
        raise InvalidInput("case.revision_unreadable")
    return {index: "\n".join(lines).strip() for index, lines in found.items()}


def _revisable(session: Session, actor: Actor, case_id: str) -> Case:
    """The case, if ``actor`` may correct its transcript now; else the translated reason why not."""
    case = case_for_reader(session, actor, case_id)
    if case.transcript is None:
        raise InvalidInput("case.revision_no_transcript")
    if any(j.status in (JobStatus.queued.value, JobStatus.running.value) for j in case.jobs):
        raise InvalidInput("case.revision_busy")
    decided = session.scalar(
        select(LearningPoint.id)
        .where(LearningPoint.case_id == case_id,
               (LearningPoint.status != "draft") | LearningPoint.decided_by.is_not(None))
        .limit(1)
    )
    if decided is not None:
        # Once a learning agent has weighed a point, the conversation it rests on must stay as they read it.
        raise InvalidInput("case.revision_decided")
    return case


def _guide_isbar(case: Case, texts: dict[int, str]) -> list[dict] | None:
    """A guide case keeps its phase-to-ISBAR mapping in the new draft, with the corrected texts."""
    if case.source_kind != SourceKind.guide.value:
        return None
    if case.drafts:
        source = case.drafts[-1].isbar
    else:
        source = next((j.guide_isbar for j in sorted(case.jobs, key=lambda j: j.created_at, reverse=True)
                       if j.guide_isbar), None)
    if not source:
        return None
    sections = [IsbarSection.model_validate(s) for s in source]
    return [
        s.model_copy(update={"text": "\n".join(texts[i] for i in s.segment_indices if i in texts)}).model_dump(
            mode="json")
        for s in sections
    ]


def revise_transcript(
    db: Database, components: Components, actor: Actor, case_id: str, segments_text: dict[int, str]
) -> Submission:
    """Correct transcript segments (index → new text) and queue drafting again; the old draft stays as history.

    Only the case's reporter (or a role that reads any case), and only while no learning point of the case has
    been decided. Edited text is pseudonymised with the case's own map, so a name typed in the edit becomes a
    placeholder and existing placeholders stay; timestamps stay; the audit keeps indices and lengths, not text.
    """
    return _revise(db, components, actor, case_id, segments_text, redraft=True)


def correct_line(db: Database, components: Components, actor: Actor, case_id: str, index: int, text: str) -> str:
    """Correct one transcript line as :func:`revise_transcript` does, without drafting again yet (the team
    steps on to the next uncertain word, then drafts once); returns the line as stored, pseudonymised."""
    _revise(db, components, actor, case_id, {index: text}, redraft=False)
    with db.session() as session:
        return next(s.text for s in session.get(Case, case_id).transcript.segments if s.index == index)


def _revise(
    db: Database, components: Components, actor: Actor, case_id: str, segments_text: dict[int, str], *,
    redraft: bool,
) -> Submission:
    edits: dict[int, str] = {}
    for index, text in segments_text.items():
        cleaned = _CONTROL.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n")).strip()
        if not cleaned:
            raise InvalidInput("case.revision_empty_segment", index=index)
        edits[int(index)] = cleaned
    total = sum(len(t) for t in edits.values())
    if total > MAX_NOTES_CHARS:
        raise InvalidInput("input.notes_too_long", chars=total, limit=MAX_NOTES_CHARS)
    with db.session() as session:
        case = _revisable(session, actor, case_id)
        stored = {s.index: s.text for s in case.transcript.segments}
    unknown = sorted(set(edits) - set(stored))
    if unknown:
        raise InvalidInput("case.revision_unknown_segment", index=unknown[0])
    changed = {i: t for i, t in edits.items() if t != stored[i]}
    # Pseudonymise outside the write: it can take a moment, and nothing is stored until it is done.
    known = known_pseudonyms(db, case_id)
    texts, entities = (components.pseudonymiser.pseudonymise_many(list(changed.values()), known=known)
                       if changed else ([], known))
    revised = {i: t for i, t in zip(changed, texts, strict=True) if t != stored[i]}
    with db.session() as session:
        case = _revisable(session, actor, case_id)  # again, inside the write: nobody decided or queued meanwhile
        if {s.index: s.text for s in case.transcript.segments} != stored:
            raise InvalidInput("case.revision_busy")  # someone else corrected it in between
        mapped = {e.placeholder for e in case.pseudonyms}
        session.add_all(
            PseudonymEntry(case_id=case_id, placeholder=e.placeholder, entity_type=e.entity_type, original=e.original)
            for e in entities if e.placeholder not in mapped
        )
        for row in case.transcript.segments:
            if row.index in revised:
                row.text = revised[row.index]
                row.words = []  # a person wrote this text: the recogniser's confidence no longer applies
        if not (redraft or revised):
            return Submission(case_id=case_id, job_id="", reference=case.reference or "")  # nothing changed
        audit.record(
            session, actor, "revise_transcript" if redraft else "correct_transcript_line", case_id=case_id,
            before={"segments": [{"index": i, "chars": len(stored[i])} for i in sorted(revised)]},
            after={"segments": [{"index": i, "chars": len(revised[i])} for i in sorted(revised)]},
        )
        if not redraft:
            return Submission(case_id=case_id, job_id="", reference=case.reference or "")
        job = Job(
            case_id=case_id, kind="redraft", stage=Stage.drafting.value,
            guide_isbar=_guide_isbar(case, {**stored, **revised}),
        )
        session.add(job)
        case.status = CaseStatus.processing.value
        session.flush()
        return Submission(case_id=case_id, job_id=job.id, reference=case.reference or "")
