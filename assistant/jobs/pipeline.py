"""The ingest pipeline's two committed steps.

1. ``transcribe_step``: decode → transcribe → pseudonymise, committed together, so raw text never reaches the
   store and a crash leaves nothing half-written (the step simply runs again).
2. ``draft_step``: ISBAR + learning points from the pseudonymised segments, committed with the job's end.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import select

from assistant.drafting import draft_case
from assistant.errors import NoSpeech
from assistant.jobs.components import Components
from assistant.jobs.recordings import hold_after_transcription, purge_expired_audio
from assistant.models import (
    CaseContext,
    CaseStatus,
    IsbarPart,
    IsbarSection,
    PendingSegment,
    PseudonymEntity,
    Sector,
    Segment,
    Stage,
    Transcript,
)
from assistant.settings import Settings
from assistant.speech import audio
from assistant.speech.speakers import NoSpeakerTurns, SpeakerTurns
from assistant.speech.transcriber import transcribe_expecting
from assistant.speech.vocabulary import DecoderVocabulary, decoder_vocabulary
from assistant.speech.words import align_words
from assistant.store import Database
from assistant.store.tables import AudioFile, Case, Draft, Job, LearningPoint, PseudonymEntry, utcnow
from assistant.store.tables import Segment as SegmentRow
from assistant.store.tables import Transcript as TranscriptRow

StageProgress = Callable[[Stage, float], None]

log = logging.getLogger(__name__)

# Unit names for the recogniser come from this many of the newest staff cases (the most frequent first).
RECENT_CASES_FOR_UNITS = 50


def _audio_path(db: Database, components: Components, case_id: str):
    with db.session() as session:
        row = session.scalar(select(AudioFile).where(AudioFile.case_id == case_id, AudioFile.deleted_at.is_(None)))
        return components.settings.audio_dir / row.stored_name if row else None


def transcribe_step(db: Database, components: Components, job_id: str, progress: StageProgress) -> None:
    """Turn the job's input into a pseudonymised transcript and its pseudonym map, in one commit."""
    with db.session() as session:
        job = session.get(Job, job_id)
        case_id, pending = job.case_id, job.pending_segments
    isbar: list[IsbarSection] | None = None
    if pending is not None:
        progress(Stage.pseudonymisation, 0.0)
        notes = [PendingSegment.model_validate(p) for p in pending]
        transcript = Transcript(
            segments=[Segment(index=i, start=0, end=0, text=n.text) for i, n in enumerate(notes)],
            model_id="typed-notes",
        )
    else:
        path = _audio_path(db, components, case_id)
        progress(Stage.decoding, 0.0)
        audio.check_not_silent(path)
        progress(Stage.decoding, 1.0)
        progress(Stage.transcription, 0.0)
        vocabulary = vocabulary_for_case(db, components.settings, case_id)
        transcript = transcribe_expecting(components.transcriber, path, vocabulary,
                                          progress=lambda f: progress(Stage.transcription, f))
        progress(Stage.transcription, 1.0)
        if not any(s.text.strip() for s in transcript.segments):
            raise NoSpeech("audio.no_speech")
        transcript = with_speaker_turns(components.speaker_turns, path, transcript)
        notes = None
    progress(Stage.pseudonymisation, 0.1)
    texts, entities = components.pseudonymiser.pseudonymise_many([s.text for s in transcript.segments])
    # Words are cut to the pseudonymised text, so a replaced name survives only as its placeholder.
    segments = [
        s.model_copy(update={"text": t, "words": align_words(s.words, t)})
        for s, t in zip(transcript.segments, texts, strict=True)
    ]
    if notes is not None and any(n.isbar_part for n in notes):
        isbar = _isbar_from_notes(notes, segments)
    progress(Stage.pseudonymisation, 1.0)
    with db.session() as session:
        job = session.get(Job, job_id)
        case = session.get(Case, case_id)
        if case.transcript is not None:  # a previous run committed but died before updating the job
            session.delete(case.transcript)
            session.flush()
        session.query(PseudonymEntry).filter_by(case_id=case_id).delete()
        row = TranscriptRow(
            case_id=case_id,
            model_id=transcript.model_id,
            language=transcript.language,
            duration_seconds=transcript.duration,
        )
        row.segments = [
            SegmentRow(index=s.index, start=s.start, end=s.end, text=s.text, speaker=s.speaker,
                       words=[w.model_dump(mode="json") for w in s.words])
            for s in segments
        ]
        session.add(row)
        session.add_all(
            PseudonymEntry(case_id=case_id, placeholder=e.placeholder, entity_type=e.entity_type, original=e.original)
            for e in entities
        )
        # Guide notes keep their ISBAR mapping (now pseudonymised) for the drafting step.
        job.pending_segments = None
        job.guide_isbar = [s.model_dump(mode="json") for s in isbar] if isbar is not None else None
        job.stage = Stage.drafting.value
        job.progress = 0.0
        hold_after_transcription(case, components.settings)
    purge_expired_audio(db, components.settings)


def with_speaker_turns(turns: SpeakerTurns, path: Path, transcript: Transcript) -> Transcript:
    """The transcript with each segment's speaker ("1", "2", …) when speaker turns are on.

    Any failure keeps the segments unlabelled: who spoke helps the reader, the transcript never depends on it.
    """
    if isinstance(turns, NoSpeakerTurns):
        return transcript  # off: the recording is not decoded a second time
    try:
        # The whole recording is held once here (about 230 MB per hour of audio) as voice prints need every segment.
        segments = turns.assign(audio.decode_16k_mono(path), transcript.segments)
    except Exception as exc:
        log.warning("transcript kept without speaker turns: %s", type(exc).__name__)
        return transcript
    return transcript.model_copy(update={"segments": segments})


def vocabulary_for_case(db: Database, settings: Settings, case_id: str) -> DecoderVocabulary | None:
    """What the recogniser should expect in a recording: the case's unit, recent staff cases' units, the fixed list.

    Other cases give only their unit name, and only staff cases (a patient's report may name a person in that
    field). Any failure transcribes without a vocabulary: it helps, it is never needed.
    """
    if settings.asr_vocabulary == "off":
        return None
    try:
        with db.session() as session:
            own = session.scalar(select(Case.unit).where(Case.id == case_id)) or ""
            recent = session.scalars(
                select(Case.unit).where(Case.unit != "", Case.reporter_type == "staff", Case.id != case_id)
                .order_by(Case.created_at.desc()).limit(RECENT_CASES_FOR_UNITS)
            ).all()
        frequent = [unit for unit, _ in Counter(" ".join(u.split()) for u in recent).most_common()]
        return decoder_vocabulary(settings, [own, *frequent])
    except Exception as exc:  # a store or file problem must never stop a transcription
        log.warning("transcribing case %s without a vocabulary: %s", case_id, type(exc).__name__)
        return None


def _isbar_from_notes(notes: list[PendingSegment], segments: list[Segment]) -> list[IsbarSection]:
    sections = []
    for part in IsbarPart:
        indices = [i for i, n in enumerate(notes) if n.isbar_part == part]
        sections.append(
            IsbarSection(part=part, text="\n".join(segments[i].text for i in indices), segment_indices=indices)
        )
    return sections


def draft_step(db: Database, components: Components, job_id: str, progress: StageProgress) -> None:
    """Draft ISBAR and learning points from the stored, pseudonymised transcript; commit with the job's end."""
    with db.session() as session:
        job = session.get(Job, job_id)
        case = session.get(Case, job.case_id)
        segments = [
            Segment(index=s.index, start=s.start, end=s.end, text=s.text, speaker=s.speaker)
            for s in case.transcript.segments
        ]
        isbar = [IsbarSection.model_validate(s) for s in job.guide_isbar] if job.guide_isbar else None
        context = CaseContext(
            sector=Sector(case.sector), unit=case.unit, event_date=case.event_date, event_type=case.event_type
        )
        case_id = case.id
    progress(Stage.drafting, 0.0)
    drafter = components.drafter or draft_case
    draft = drafter(
        segments, context, components.chat, components.settings, isbar=isbar,
        progress=lambda f: progress(Stage.drafting, f),
    )
    with db.session() as session:
        job = session.get(Job, job_id)
        case = session.get(Case, case_id)
        # Domain and table fields share names, so the validated draft maps straight onto the rows.
        row = Draft(case_id=case_id, **draft.model_dump(mode="json", exclude={"learning_points"}))
        row.learning_points = [
            LearningPoint(case_id=case_id, position=i, **lp.model_dump(mode="json"))
            for i, lp in enumerate(draft.learning_points)
        ]
        session.add(row)
        case.status = CaseStatus.awaiting_review.value
        job.guide_isbar = None
        job.stage = Stage.done.value
        job.status = "done"
        job.progress = 1.0
        job.finished_at = utcnow()
        job.lease_owner = None
        job.lease_expires_at = None
    progress(Stage.drafting, 1.0)


def known_pseudonyms(db: Database, case_id: str) -> list[PseudonymEntity]:
    """The case's pseudonym map (access-controlled callers only)."""
    with db.session() as session:
        rows = session.scalars(select(PseudonymEntry).where(PseudonymEntry.case_id == case_id)).all()
        return [PseudonymEntity(placeholder=r.placeholder, entity_type=r.entity_type, original=r.original) for r in rows]


class PipelineStep(NamedTuple):
    """One committed step: the stages it reports while it runs, and the function that runs it."""

    stages: tuple[Stage, ...]
    run: Callable[[Database, Components, str, StageProgress], None]


# The whole pipeline, in order. A job resumes at the step whose stages hold its stored stage.
PIPELINE: tuple[PipelineStep, ...] = (
    PipelineStep((Stage.decoding, Stage.transcription, Stage.pseudonymisation), transcribe_step),
    PipelineStep((Stage.drafting,), draft_step),
)


def steps_from(stage: Stage) -> tuple[PipelineStep, ...]:
    """The steps still to run for a job stored at ``stage`` (none once it is done)."""
    for position, step in enumerate(PIPELINE):
        if stage in step.stages:
            return PIPELINE[position:]
    return ()
