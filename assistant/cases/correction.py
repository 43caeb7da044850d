"""Checking a transcript word by word: step from one uncertain word to the next and hear the recording there.

The team hears its own recording while it is still held (see ``assistant.jobs.recordings``): without consent
only the case's reporter may, as nobody else was meant to hear it; with consent also those who review.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from assistant import audit
from assistant.auth import Actor, Permission
from assistant.cases.reading import MAX_CLIP_SECONDS, AudioClip, case_for_reader
from assistant.errors import InvalidInput, NotAllowed, NotFound
from assistant.models import Segment
from assistant.settings import Settings
from assistant.speech import SAMPLE_RATE, decode_window_16k_mono
from assistant.speech.words import UncertainWord, step_uncertain, uncertain_words
from assistant.store import Database
from assistant.store.tables import AudioFile, Case, utcnow

WORD_PADDING_SECONDS = 2.0  # enough either side to hear the word in its sentence


class CorrectionView(BaseModel):
    """Where a person stands in checking a transcript: the uncertain word in its line, and what can be done."""

    case_id: str
    reference: str = ""
    word: UncertainWord | None = None  # None: no uncertain word left (or none ever marked)
    position: int = 0  # 1-based place of ``word`` among ``total``
    total: int = 0
    line: Segment | None = None  # the segment holding ``word``
    recording: bool = False  # this person may hear the recording now
    keep_audio: bool = False  # the team consented to keeping it for review
    confirmed: bool = False  # the team has confirmed the transcript
    transcript: bool = False  # there is a transcript to check (not before transcription, nor after a refusal)


def _live_recording(case: Case, now: dt.datetime) -> AudioFile | None:
    """The case's recording while it is held (the purge may lag behind its time)."""
    for row in case.audio:
        if row.deleted_at is None and (row.delete_after is None or row.delete_after > now):
            return row
    return None


def _may_hear(actor: Actor, case: Case) -> bool:
    if actor.user_id is not None and actor.user_id == case.reporter_id:
        return True
    return case.keep_audio and actor.can(Permission.read_any_case)


def correction_view(
    db: Database, actor: Actor, case_id: str, threshold: float, current: tuple[int, int] | None = None, *,
    step: int = 0, now: dt.datetime | None = None,
) -> CorrectionView:
    """The uncertain word at ``current`` (``step`` 0), the next (1) or the previous (-1), wrapping at the ends.

    ``current`` is a (segment index, word position) place; if that word is gone (its line was corrected), step 0
    moves on to the one after it.
    """
    now = now or utcnow()
    with db.session() as session:
        case = case_for_reader(session, actor, case_id)
        segments = [Segment(index=s.index, start=s.start, end=s.end, text=s.text, speaker=s.speaker,
                            words=s.words or []) for s in (case.transcript.segments if case.transcript else [])]
        view = CorrectionView(
            case_id=case.id, reference=case.reference or "", keep_audio=case.keep_audio,
            recording=_live_recording(case, now) is not None and _may_hear(actor, case),
            confirmed=case.transcript is not None and case.transcript.confirmed_at is not None,
            transcript=case.transcript is not None,
        )
    words = uncertain_words(segments, threshold)
    here = next((w for w in words if current is not None and w.place == tuple(current)), None)
    if step or here is None:
        here = step_uncertain(words, current, forward=step >= 0)
    if here is not None:
        view.word, view.position, view.total = here, words.index(here) + 1, len(words)
        view.line = next(s for s in segments if s.index == here.segment_index)
    return view


def word_clip(
    db: Database, settings: Settings, actor: Actor, case_id: str, word: UncertainWord, *,
    padding: float = WORD_PADDING_SECONDS, now: dt.datetime | None = None,
) -> AudioClip:
    """The recording from ``padding`` seconds before ``word`` to as long after it, for checking what was said.

    Refused with a translated NotFound once the recording is gone; each listening is audited.
    """
    now = now or utcnow()
    with db.session() as session:
        case = case_for_reader(session, actor, case_id)
        if not _may_hear(actor, case):
            raise NotAllowed("auth.not_allowed", role=actor.role.value)
        case_id = case.id
        row = _live_recording(case, now)
        path = settings.audio_dir / row.stored_name if row is not None else None
    if path is None or not path.is_file():
        raise NotFound("case.recording_gone", case_id=case_id)
    start = max(0.0, word.start - padding)
    end = min(word.end + padding, start + MAX_CLIP_SECONDS)
    samples = decode_window_16k_mono(path, start, end)
    if samples.size == 0:
        raise InvalidInput("case.clip_outside", start=round(word.start, 1))
    end = start + len(samples) / SAMPLE_RATE
    with db.session() as session:
        audit.record(session, actor, "audio_played", case_id=case_id,
                     after={"start": round(start, 2), "end": round(end, 2), "for": "correction"})
    return AudioClip(case_id=case_id, start=start, end=end, samples=samples)
