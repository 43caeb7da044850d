"""The team confirms its transcript: from then on the recording is no longer needed and goes, unless the team
consented to keeping it for review (see ``assistant.jobs.recordings`` for the whole rule)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel

from assistant import audit
from assistant.auth import Actor
from assistant.cases import case_for_reader
from assistant.errors import InvalidInput
from assistant.jobs.recordings import purge_expired_audio, release_now
from assistant.settings import Settings
from assistant.store import Database
from assistant.store.tables import utcnow


class Confirmation(BaseModel):
    """What confirming did: the recording was deleted, kept (consent), or there was none left."""

    case_id: str
    reference: str = ""
    recording: Literal["deleted", "kept", "none"]
    already: bool = False  # it had been confirmed before; nothing new was recorded


def confirm_transcript(
    db: Database, settings: Settings, actor: Actor, case_id: str, *, now: dt.datetime | None = None
) -> Confirmation:
    """Mark the case's transcript as right, audited, and delete its recording now unless the team consented.

    Only whoever may read the case (its reporter, or a role that reads any case); confirming twice is harmless.
    """
    now = now or utcnow()
    with db.session() as session:
        case = case_for_reader(session, actor, case_id)
        if case.transcript is None:
            raise InvalidInput("case.revision_no_transcript")
        case_id, reference = case.id, case.reference or ""
        live = any(row.deleted_at is None for row in case.audio)
        outcome = "none" if not live else "kept" if case.keep_audio else "deleted"
        already = case.transcript.confirmed_at is not None
        if not already:
            case.transcript.confirmed_at = now
            audit.record(session, actor, "confirm_transcript", case_id=case_id, after={"recording": outcome})
        release_now(case, now)
    purge_expired_audio(db, settings, now=now)
    return Confirmation(case_id=case_id, reference=reference, recording=outcome, already=already)
