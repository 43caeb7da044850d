"""How long an uploaded recording lives: until the team confirms its transcript, or a limit passes.

Without consent a recording is held ``recording_keep_hours`` after transcription, so the team can hear its
uncertain words while correcting; confirming the transcript ends that at once. With consent it stays
``keep_audio_days`` from upload, for review. A refused job lets it go at once. The purge runs after each
transcription, from the worker's loop and when the team confirms; it is safe to run any number of times.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from assistant import audit
from assistant.auth import SYSTEM
from assistant.settings import Settings
from assistant.store import Database
from assistant.store.tables import AudioFile, Case, utcnow


def hold_after_transcription(case: Case, settings: Settings, now: dt.datetime | None = None) -> None:
    """Give a case's unconsented recording its correction window, counted from its transcript (in a session)."""
    until = (now or utcnow()) + dt.timedelta(hours=settings.recording_keep_hours)
    for row in case.audio:
        if not case.keep_audio and row.deleted_at is None:
            row.delete_after = until


def release_now(case: Case, now: dt.datetime | None = None) -> bool:
    """Mark an unconsented recording for deletion now (in a session); False when consent keeps it."""
    if case.keep_audio:
        return False
    now = now or utcnow()
    for row in case.audio:
        if row.deleted_at is None and (row.delete_after is None or row.delete_after > now):
            row.delete_after = now
    return True


def _reason(case: Case) -> str:
    if case.keep_audio:
        return "consent_ended"
    if case.transcript is not None and case.transcript.confirmed_at is not None:
        return "transcript_confirmed"
    return "time_limit" if case.transcript is not None else "job_refused"


def purge_expired_audio(db: Database, settings: Settings, now: dt.datetime | None = None) -> int:
    """Delete recordings whose time is up and audit each; the row stays (hash, duration) so duplicates are still
    seen. Each recording is claimed by a conditional update, so two workers purging at once delete it once."""
    now = now or utcnow()
    with db.session() as session:
        due = session.scalars(
            select(AudioFile.id).where(AudioFile.deleted_at.is_(None), AudioFile.delete_after <= now)
        ).all()
    removed = 0
    for audio_id in due:
        with db.session() as session:
            claimed = session.execute(
                update(AudioFile).where(AudioFile.id == audio_id, AudioFile.deleted_at.is_(None)).values(deleted_at=now)
            ).rowcount
            if not claimed:
                continue  # another worker got there first
            row = session.get(AudioFile, audio_id)
            # The file goes before the commit: should the commit fail, the row is still live and the next
            # purge finishes the job, whereas the other order could leave a recording on disk nobody lists.
            (settings.audio_dir / row.stored_name).unlink(missing_ok=True)
            audit.record(session, SYSTEM, "recording_deleted", case_id=row.case_id,
                         after={"reason": _reason(row.case), "seconds": round(row.duration_seconds, 1)})
            removed += 1
    return removed
