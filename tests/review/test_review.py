"""Learning-agent review on a real record store and a real Chroma index: decisions, audit, feedback, erasure."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from assistant.audit import events_for_case
from assistant.auth import Actor, Role, add_user, authenticate
from assistant.chat import rate_answer
from assistant.errors import InvalidInput, NotAllowed, NotFound
from assistant.indexing import check_index, rebuild_index
from assistant.intake import submit_recording
from assistant.jobs import Components, pipeline, run_job
from assistant.models import CaseContext, Sector
from assistant.review import (
    PointEdit,
    QueueFilters,
    approve,
    edit_point,
    erase_case,
    reject,
    release_feedback,
    reopen,
    review_queue,
    save_feedback,
    send_back,
    status_by_receipt,
)
from assistant.store.tables import (
    AnswerRating,
    AudioFile,
    AuditEvent,
    Case,
    Draft,
    Feedback,
    Job,
    LearningPoint,
    PseudonymEntry,
    Segment,
    Transcript,
)
from tests.support import audio_factory
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft
from tests.support.review_cases import hand_in_drafted

AGENT = Actor(user_id="a1", name="agent-anne", role=Role.learning_agent)
STAFF = Actor(user_id="s1", name="staff-sofie", role=Role.staff)
ADMIN = Actor(user_id="ad", name="admin", role=Role.admin)
QUERY = "insulin dobbelt dosis ved vagtskifte"


@pytest.fixture
def drafted(db, settings, monkeypatch):
    """A case that went through the pipeline (fake models) and awaits review: (submission, point id)."""
    submission = hand_in_drafted(db, settings, monkeypatch)
    with db.session() as session:
        point_id = session.scalar(select(LearningPoint.id).where(LearningPoint.case_id == submission.case_id))
    return submission, point_id


def searchable(index, point_id: str) -> bool:
    return point_id in {h.learning_point_id for h in index.search(QUERY, k=10)}


def test_approved_point_is_searchable_and_rejected_is_not(db, index, drafted):
    submission, point_id = drafted
    assert not searchable(index, point_id)
    approve(db, index, AGENT, point_id)
    assert searchable(index, point_id)
    reject(db, index, AGENT, point_id, reason="duplicate", note="Se tidligere sag")
    assert not searchable(index, point_id)


def test_unapproving_removes_the_point_from_the_index_at_once(db, index, drafted):
    _, point_id = drafted
    approve(db, index, AGENT, point_id)
    reopen(db, index, AGENT, point_id, note="Skal omformuleres")
    assert not searchable(index, point_id)


def test_staff_cannot_approve(db, index, drafted):
    _, point_id = drafted
    with pytest.raises(NotAllowed):
        approve(db, index, STAFF, point_id)
    assert not searchable(index, point_id)


def test_every_decision_is_audited_with_who_and_before_after(db, index, drafted):
    submission, point_id = drafted
    edit_point(db, index, AGENT, point_id, PointEdit(title="Dobbeltkontrol af insulin ved overlevering", category="medicin"))
    send_back(db, AGENT, point_id, question="Hvilken pumpe blev brugt?")
    approve(db, index, AGENT, point_id, visibility="public")
    events = events_for_case(db, submission.case_id)
    assert [e["action"] for e in events] == ["edit", "return", "approve"]
    assert all(e["actor"] == "agent-anne" and e["role"] == "learning_agent" for e in events)
    assert events[0]["before"]["title"] == "Dobbeltkontrol af insulin ved vagtskifte"
    assert events[0]["after"]["title"] == "Dobbeltkontrol af insulin ved overlevering"
    assert events[2]["after"]["visibility"] == "public"


def test_reject_reopen_and_feedback_are_audited_with_who_when_and_before_after(db, index, drafted):
    submission, point_id = drafted
    reject(db, index, AGENT, point_id, reason="insufficient_evidence", note="Ikke belæg i samtalen")
    reopen(db, index, AGENT, point_id, note="Ny gennemlæsning")
    save_feedback(db, AGENT, submission.case_id, "Kladde: tak for jeres debriefing.")
    release_feedback(db, AGENT, submission.case_id, "Tak for jeres debriefing – læringen deles nu.")
    events = events_for_case(db, submission.case_id)
    assert [e["action"] for e in events] == ["reject", "reopen", "feedback_saved", "feedback_released"]
    assert all(e["actor"] == "agent-anne" and e["role"] == "learning_agent" and e["at"] is not None
               for e in events)
    rejected, reopened, saved, released = events
    assert rejected["learning_point_id"] == point_id and rejected["note"] == "Ikke belæg i samtalen"
    assert rejected["before"]["status"] == "draft" and rejected["before"]["reject_reason"] is None
    assert rejected["after"]["status"] == "rejected" and rejected["after"]["reject_reason"] == "insufficient_evidence"
    assert reopened["before"]["status"] == "rejected" and reopened["before"]["reject_reason"] == "insufficient_evidence"
    assert reopened["after"]["status"] == "draft" and reopened["after"]["reject_reason"] is None
    assert saved["before"] is None
    assert saved["after"] == {"text": "Kladde: tak for jeres debriefing.", "status": "draft"}
    assert released["before"] == {"text": "Kladde: tak for jeres debriefing.", "status": "draft"}
    assert released["after"] == {"text": "Tak for jeres debriefing – læringen deles nu.", "status": "released"}
    assert rejected["at"] <= reopened["at"] <= saved["at"] <= released["at"]


def failing_commit(monkeypatch) -> None:
    """The store refuses the next commits (a full disk, a lost connection, a constraint)."""
    def refuse(self):
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    monkeypatch.setattr(Session, "commit", refuse)


def test_an_approval_whose_commit_fails_is_not_searchable(db, index, drafted, monkeypatch):
    _, point_id = drafted
    with monkeypatch.context() as patched:
        failing_commit(patched)
        with pytest.raises(OperationalError):
            approve(db, index, AGENT, point_id, visibility="public")
    assert not searchable(index, point_id)
    assert point_id not in index.ids()
    with db.session() as session:
        assert session.get(LearningPoint, point_id).status == "draft"
    assert check_index(db, index).consistent


def test_an_edit_whose_commit_fails_leaves_the_indexed_text_as_approved(db, index, drafted, monkeypatch):
    _, point_id = drafted
    approve(db, index, AGENT, point_id)
    with monkeypatch.context() as patched:
        failing_commit(patched)
        with pytest.raises(OperationalError):
            edit_point(db, index, AGENT, point_id, PointEdit(title="En titel der aldrig blev gemt"))
    assert index.metadata_by_id()[point_id]["title"] == "Dobbeltkontrol af insulin ved vagtskifte"
    assert check_index(db, index).consistent
    edit_point(db, index, AGENT, point_id, PointEdit(title="Dobbeltkontrol af insulin ved overlevering"))
    assert index.metadata_by_id()[point_id]["title"] == "Dobbeltkontrol af insulin ved overlevering"


def test_the_audit_log_cannot_be_edited_or_deleted(db, index, drafted):
    _, point_id = drafted
    approve(db, index, AGENT, point_id)
    with pytest.raises((IntegrityError, OperationalError, DatabaseError)):
        with db.session() as session:
            session.execute(text("UPDATE audit_events SET actor = 'someone-else'"))
    with pytest.raises((IntegrityError, OperationalError, DatabaseError)):
        with db.session() as session:
            session.execute(text("DELETE FROM audit_events"))
    with db.session() as session:
        assert session.scalar(select(AuditEvent.actor)) == "agent-anne"


def test_reject_needs_a_reason_from_the_fixed_list(db, index, drafted):
    _, point_id = drafted
    with pytest.raises(InvalidInput):
        reject(db, index, AGENT, point_id, reason="because")


def test_an_unknown_category_is_refused_on_edit(db, index, drafted):
    _, point_id = drafted
    with pytest.raises(InvalidInput):
        edit_point(db, index, AGENT, point_id, PointEdit(category="noget-helt-andet"))


def test_queue_filters_by_sector_and_status(db, index, drafted):
    submission, point_id = drafted
    assert [i.case_id for i in review_queue(db, AGENT)] == [submission.case_id]
    assert review_queue(db, AGENT, QueueFilters(sectors=[Sector.municipality])) == []
    assert [i.case_id for i in review_queue(db, AGENT, QueueFilters(category="medicin"))] == [submission.case_id]
    approve(db, index, AGENT, point_id)
    assert review_queue(db, AGENT) == []  # all points decided → the case leaves the queue
    with pytest.raises(NotAllowed):
        review_queue(db, STAFF)


def test_reporter_sees_status_and_released_feedback_by_receipt(db, index, drafted):
    submission, point_id = drafted
    before = status_by_receipt(db, submission.receipt_code)
    assert before.status == "awaiting_review" and before.approved_points == [] and before.feedback is None
    approve(db, index, AGENT, point_id)
    release_feedback(db, AGENT, submission.case_id, "Tak for jeres debriefing – læringen deles nu.")
    after = status_by_receipt(db, submission.receipt_code.lower())
    assert after.status == "decided"
    assert [p.id for p in after.approved_points] == [point_id]
    assert after.feedback.startswith("Tak for jeres debriefing")
    with pytest.raises(NotFound):
        status_by_receipt(db, "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-F")


def test_index_rebuild_equals_the_incremental_index(db, index, drafted):
    _, point_id = drafted
    approve(db, index, AGENT, point_id, visibility="public")
    incremental = index.metadata_by_id()
    diff = rebuild_index(db, index)
    assert diff.consistent
    assert index.metadata_by_id() == incremental


def test_a_deleted_index_is_detected_and_restored(db, index, drafted):
    _, point_id = drafted
    approve(db, index, AGENT, point_id)
    index.reset()
    assert check_index(db, index).missing == [point_id]
    assert rebuild_index(db, index).consistent
    assert searchable(index, point_id)


@pytest.fixture
def recorded(db, settings, monkeypatch):
    """An audio case whose team consented to keeping the recording, drafted: (submission, point id, audio path)."""
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    components = Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(),
                            chat_=FakeChat())
    recording = audio_factory.tone(settings.data_dir.parent / "debrief.wav", 2.0)
    submission = submit_recording(db, settings, recording, CaseContext(keep_audio=True))
    assert run_job(db, components, submission.job_id).status.value == "done"
    with db.session() as session:
        point_id = session.scalar(select(LearningPoint.id).where(LearningPoint.case_id == submission.case_id))
        stored = settings.audio_dir / session.scalar(select(AudioFile.stored_name))
    return submission, point_id, stored


def count(session, table, **where) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(getattr(table, column) == value)
    return session.scalar(query)


def test_erasure_leaves_no_trace_but_records_that_it_happened(db, index, drafted, recorded, settings):
    notes_case, notes_point = drafted
    submission, point_id, stored_audio = recorded
    assert stored_audio.is_file()  # kept with consent until the erasure
    approve(db, index, AGENT, point_id, note="God læring om Jens' insulin")
    approve(db, index, AGENT, notes_point)
    save_feedback(db, AGENT, submission.case_id, "Tak for optagelsen af jeres debriefing.")
    # Chat ratings keep question and answer; the answer quotes and labels the cited points.
    rate_answer(db, STAFF, "Har vi set insulinfejl før?",
                f"Ja: dobbelt dosis ved vagtskifte [{submission.case_id} / {point_id}].", [point_id], True)
    rate_answer(db, STAFF, "Og andre steder?", f"Se [{submission.case_id} / {point_id}] og "
                f"[{notes_case.case_id} / {notes_point}].", [notes_point, point_id], False, "for kort")
    rate_answer(db, STAFF, "Kun den anden sag", f"[{notes_case.case_id} / {notes_point}]", [notes_point], True)
    with db.session() as session:
        assert count(session, Job, case_id=submission.case_id) == 1
        assert count(session, Draft, case_id=submission.case_id) == 1
        assert count(session, Feedback, case_id=submission.case_id) == 1
    with pytest.raises(NotAllowed):
        erase_case(db, index, settings, AGENT, submission.case_id)

    erase_case(db, index, settings, ADMIN, submission.case_id)

    assert not searchable(index, point_id) and point_id not in index.ids()
    assert searchable(index, notes_point)  # the other case is untouched
    assert not stored_audio.exists() and list(settings.audio_dir.iterdir()) == []
    with db.session() as session:
        assert count(session, Case, id=submission.case_id) == 0
        for table in (AudioFile, Transcript, PseudonymEntry, Draft, LearningPoint, Job, Feedback):
            assert count(session, table, case_id=submission.case_id) == 0, table.__name__
        assert count(session, Segment) == count(session, Segment, transcript_id=session.scalar(
            select(Transcript.id).where(Transcript.case_id == notes_case.case_id)))
        ratings = session.scalars(select(AnswerRating)).all()
        assert [r.question for r in ratings] == ["Kun den anden sag"]
        events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == submission.case_id)
                                 .order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["recording_consent", "approve", "feedback_saved", "case_erased"]
        assert all(e.before is None and e.note is None for e in events)
        assert [e.after for e in events] == [None, None, None, {"reason": "gdpr"}]


def test_passwords_are_hashed_and_checked(db):
    add_user(db, "mette", Role.learning_agent, "korrekt-hest-batteri")
    assert authenticate(db, "mette", "korrekt-hest-batteri").role == Role.learning_agent
    assert authenticate(db, "mette", "forkert-kode-123") is None
    assert authenticate(db, "ukendt", "korrekt-hest-batteri") is None
    with db.session() as session:
        stored = session.scalar(text("SELECT password_hash FROM users"))
    assert stored.startswith("$argon2") and "korrekt" not in stored


def test_the_queue_the_review_and_the_status_page_show_references(db, drafted):
    from assistant.review import open_case

    submission, point_id = drafted
    assert submission.reference.startswith("UTH-")
    assert [(i.case_id, i.reference) for i in review_queue(db, AGENT)] == [(submission.case_id, submission.reference)]
    shown = open_case(db, AGENT, submission.reference)  # a reference typed into the review opens the case
    assert shown.id == submission.case_id and shown.reference == submission.reference
    assert [(p.id, p.reference) for p in shown.learning_points] == [(point_id, f"{submission.reference}/1")]
    approve(db, ForgetfulIndex(), AGENT, f"{submission.reference}/1")
    status = status_by_receipt(db, submission.receipt_code)
    assert status.reference == submission.reference
    assert [p.reference for p in status.approved_points] == [f"{submission.reference}/1"]


def test_erasure_also_takes_chat_ratings_that_cite_the_case_by_reference(db, index, drafted, settings):
    submission, point_id = drafted
    approve(db, index, AGENT, point_id)
    rate_answer(db, STAFF, "Har vi set insulinfejl før?", f"Ja [{submission.reference}/1].", [], True)
    rate_answer(db, STAFF, "En anden sag", f"Nej [{submission.reference}1/1].", [], True)  # …0011, not this case
    erase_case(db, index, settings, ADMIN, submission.reference)
    with db.session() as session:
        assert session.get(Case, submission.case_id) is None
        assert [r.question for r in session.scalars(select(AnswerRating))] == ["En anden sag"]


class ForgetfulIndex:
    """An index that takes writes and forgets them (the review's own checks are under test, not search)."""

    def upsert(self, points) -> None: ...
    def delete(self, ids) -> None: ...
    def delete_case(self, case_id) -> None: ...
