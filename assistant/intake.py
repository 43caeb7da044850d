"""Intake: a recording or typed notes become a case with a queued job, or a clear error with nothing stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import uuid
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant import audio
from assistant.errors import InvalidInput
from assistant.models import CaseContext, IsbarPart, PendingSegment, SourceKind
from assistant.receipts import new_receipt_code, receipt_hash
from assistant.settings import Settings
from assistant.store import Database
from assistant.store.tables import AudioFile, Case, Job, utcnow

MAX_NOTES_CHARS = 200_000
# Control characters other than tab/newline carry no meaning in notes and break rendering.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Submission(BaseModel):
    """What the submitter gets back. The receipt code is shown once and never stored in clear."""

    case_id: str
    job_id: str
    receipt_code: str | None = None
    duplicate: bool = False


def _existing(db: Database, content_hash: str) -> Submission | None:
    with db.session() as session:
        case = session.scalar(select(Case).where(Case.content_hash == content_hash))
        if case is None:
            return None
        job = max(case.jobs, key=lambda j: j.created_at)
        return Submission(case_id=case.id, job_id=job.id, duplicate=True)


def _new_case(
    session: Session,
    kind: SourceKind,
    content_hash: str,
    receipt: str,
    context: CaseContext,
    reporter_id: str | None,
    **source: object,
) -> Case:
    """The case row every kind of submission starts with; only the receipt's hash is kept."""
    case = Case(
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
    db: Database, settings: Settings, path: Path, context: CaseContext, *, reporter_id: str | None = None
) -> Submission:
    """Validate a recording, keep it under a generated name, and queue it. Duplicates return the existing case."""
    info = audio.validate_recording(Path(path), settings)  # InvalidAudio (also for silence) before anything is stored
    found = _existing(db, info.sha256)
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
                session, SourceKind.audio, info.sha256, receipt, context, reporter_id, keep_audio=context.keep_audio
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
            job = Job(case_id=case.id, stage="decoding")
            session.add(job)
            session.flush()
            return Submission(case_id=case.id, job_id=job.id, receipt_code=receipt)
    except BaseException as error:
        partial.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        if isinstance(error, IntegrityError) and (found := _existing(db, info.sha256)):
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
) -> Submission:
    """Queue typed notes (free text)."""
    cleaned = clean_notes(text)
    return _submit_segments(db, notes_to_segments(cleaned), context, SourceKind.notes, reporter_id=reporter_id)


def submit_guide_notes(
    db: Database,
    settings: Settings,
    notes: list[tuple[str, IsbarPart | None]],
    context: CaseContext,
    *,
    guide_id: str,
    reporter_id: str | None = None,
) -> Submission:
    """Queue a facilitator's notes taken phase by phase; each phase's ISBAR part goes straight to the draft."""
    segments = [PendingSegment(text=clean_notes(text), isbar_part=part) for text, part in notes if text.strip()]
    if not segments:
        raise InvalidInput("input.empty_notes")
    return _submit_segments(
        db, segments, context, SourceKind.guide, reporter_id=reporter_id, guide_id=guide_id
    )


def _submit_segments(
    db: Database,
    segments: list[PendingSegment],
    context: CaseContext,
    kind: SourceKind,
    *,
    reporter_id: str | None,
    guide_id: str | None = None,
) -> Submission:
    digest = hashlib.sha256("\n\n".join(s.text for s in segments).encode()).hexdigest()
    found = _existing(db, digest)
    if found:
        return found
    receipt = new_receipt_code()
    try:
        with db.session() as session:
            case = _new_case(session, kind, digest, receipt, context, reporter_id, guide_id=guide_id)
            job = Job(
                case_id=case.id,
                stage="pseudonymisation",
                pending_segments=[s.model_dump(mode="json") for s in segments],
            )
            session.add(job)
            session.flush()
            return Submission(case_id=case.id, job_id=job.id, receipt_code=receipt)
    except IntegrityError:
        if found := _existing(db, digest):
            return found  # the same notes handed in twice at once (a double click): the other one won
        raise
