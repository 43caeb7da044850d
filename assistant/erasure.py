"""Erasure of a case (GDPR request or retention expiry): audio, transcript, pseudonym map, drafts, feedback
and index entries go; the audit log keeps that decisions and the erasure happened, without their content."""

from __future__ import annotations

from assistant import audit
from assistant.auth import Actor, Permission
from assistant.errors import NotFound
from assistant.indexing import LearningIndexLike
from assistant.settings import Settings
from assistant.store import Database
from assistant.store.tables import Case


def erase_case(db: Database, index: LearningIndexLike, settings: Settings, actor: Actor, case_id: str,
               *, reason: str = "gdpr") -> None:
    """Remove every trace of ``case_id`` from store, index and audio folder; record the erasure."""
    actor.require(Permission.erase)
    with db.session() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("record.not_found", what=f"Sag {case_id}")
        stored_audio = [settings.audio_dir / a.stored_name for a in case.audio]
        index.delete_case(case_id)
        audit.redact_case(session, case_id)
        session.delete(case)  # cascades: audio rows, transcript, segments, pseudonyms, drafts, points, jobs
        audit.record(session, actor, "case_erased", case_id=case_id, note=None,
                     after={"reason": reason})
    for path in stored_audio:
        path.unlink(missing_ok=True)
