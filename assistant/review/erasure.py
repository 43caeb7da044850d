"""Erasure of a case (GDPR request or retention expiry): audio, transcript, pseudonym map, drafts, feedback,
jobs, index entries and the chat ratings whose answers cited the case go; the audit log keeps that decisions
and the erasure happened, without their content."""

from __future__ import annotations

import logging
import re
import sqlite3

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from assistant import audit
from assistant.auth import Actor, Permission
from assistant.errors import NotFound
from assistant.indexing import LearningIndexLike
from assistant.cases import find_case
from assistant.settings import Settings
from assistant.store import Database
from assistant.store.tables import AnswerRating, LearningPoint

log = logging.getLogger(__name__)


def erase_case(db: Database, index: LearningIndexLike, settings: Settings, actor: Actor, case_id: str,
               *, reason: str = "gdpr") -> None:
    """Remove every trace of ``case_id`` from store, index and audio folder; record the erasure."""
    actor.require(Permission.erase)
    with db.session() as session:
        case = find_case(session, case_id)
        if case is None:
            raise NotFound("record.not_found", what="record.what.case", case_id=case_id)
        case_id = case.id  # it may have been named by its reference
        if db.is_sqlite:
            # Deleted rows are overwritten with zeros, not just unlinked (some SQLite builds keep the bytes).
            session.execute(text("PRAGMA secure_delete = ON"))
        stored_audio = [settings.audio_dir / a.stored_name for a in case.audio]
        index.delete_case(case_id)
        audit.redact_case(session, case_id)
        _erase_ratings_citing(session, case_id, case.reference)
        session.delete(case)  # cascades: audio rows, transcript, segments, pseudonyms, drafts, points, jobs
        audit.record(session, actor, "case_erased", case_id=case_id, note=None,
                     after={"reason": reason})
    for path in stored_audio:
        path.unlink(missing_ok=True)
    _scrub_files(db, settings)


def _erase_ratings_citing(session: Session, case_id: str, reference: str | None = None) -> int:
    """Chat ratings keep the question and the answer, which quotes the cited points and labels them by reference
    (``[UTH-2026-0142/2]``); a rating that cited any point of the case (or names the case) goes with it."""
    point_ids = set(session.scalars(select(LearningPoint.id).where(LearningPoint.case_id == case_id)))
    doomed = [
        rating_id
        for rating_id, cited, answer in session.execute(
            select(AnswerRating.id, AnswerRating.cited_ids, AnswerRating.answer)
        )
        if point_ids.intersection(cited or []) or case_id in (answer or "")
        or (reference and re.search(rf"{re.escape(reference)}(?!\d)", answer or ""))
    ]
    for start in range(0, len(doomed), 500):
        session.execute(delete(AnswerRating).where(AnswerRating.id.in_(doomed[start : start + 500])))
    return len(doomed)


def _scrub_files(db: Database, settings: Settings) -> None:
    """Erased rows must not survive in the files either: SQLite's write-ahead log still holds the pages as they
    were before the erasure, and the embedded Chroma file keeps deleted documents in its free pages."""
    if db.is_sqlite:
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    chroma_file = settings.chroma_path / "chroma.sqlite3"
    if settings.chroma_url is None and chroma_file.is_file():
        connection = sqlite3.connect(chroma_file, timeout=30, isolation_level=None)
        try:
            connection.execute("VACUUM")
        except sqlite3.Error as error:  # busy for longer than the timeout: the next erasure vacuums again
            log.warning("could not compact the index file after an erasure: %s", error)
        finally:
            connection.close()
