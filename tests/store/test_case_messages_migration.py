"""Migration 0012: questions, answers and released feedback from before the thread become its first messages."""

from __future__ import annotations

from sqlalchemy import text

from assistant.review.case_thread import thread_of
from assistant.store import Database
from assistant.store.tables import Case


def test_earlier_questions_answers_and_released_feedback_become_thread_messages_in_order(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade("0011")  # a store from before the thread
    with db.engine.begin() as connection:
        for case_id, reference in (("c-1", "UTH-2026-0001"), ("c-2", "UTH-2026-0002")):
            connection.execute(text(
                "INSERT INTO cases (id, reference, source_kind, content_hash, receipt_hash, sector, unit, event_type, "
                "keep_audio, status, created_at, updated_at) VALUES (:id, :ref, 'notes', :id, :id, 'hospital', '', "
                "'', 0, 'decided', '2026-01-01', '2026-01-01')"), {"id": case_id, "ref": reference})
        connection.execute(text(
            "INSERT INTO drafts (id, case_id, prompt_id, prompt_version, model_id, attempts, tokens_in, tokens_out, "
            "isbar, created_at) VALUES ('d-1', 'c-1', 'p', '1', 'm', 1, 0, 0, '[]', '2026-01-01')"))
        for point_id, number, question, answer, answered, decided in (
                ("p-open", 2, "Hvem var på vagt?", None, None, "2026-01-04 09:00:00"),
                ("p-answered", 1, "Hvilken pen?", "NovoPen, sagde [PERSON_1].", "2026-01-03 12:00:00", None),
                ("p-plain", 3, None, None, None, None)):
            connection.execute(text(
                "INSERT INTO learning_points (id, case_id, draft_id, position, number, title, what_happened, "
                "contributing_factors, what_went_well, suggested_actions, category, severity, safety_ii, evidence, "
                "status, visibility, reporter_question, reporter_answer, reporter_answered_at, decided_by, "
                "decided_at, created_at, updated_at) VALUES (:id, 'c-1', 'd-1', :n, :n, 't', 'w', '[]', '[]', '[]', "
                "'medicin', 'mild', 0, '[]', 'draft', 'staff', :q, :a, :answered, 'anne', :decided, '2026-01-01', "
                "'2026-01-02 08:00:00')"),
                {"id": point_id, "n": number, "q": question, "a": answer, "answered": answered, "decided": decided})
        connection.execute(text(
            "INSERT INTO feedback (id, case_id, text, status, released_by, released_at, updated_at) VALUES "
            "('f-1', 'c-1', 'Tak for sagen.', 'released', 'anne', '2026-01-05 10:00:00', '2026-01-05'), "
            "('f-2', 'c-2', 'Kun et udkast.', 'draft', NULL, NULL, '2026-01-05')"))
    db.upgrade()
    with db.session() as session:
        thread = thread_of(session, session.get(Case, "c-1"))
        assert [(m.author.value, m.kind.value, m.body, m.point_reference) for m in thread] == [
            ("agent", "question", "Hvilken pen?", "UTH-2026-0001/1"),  # its time was lost: just before the answer
            ("reporter", "answer", "NovoPen, sagde [PERSON_1].", "UTH-2026-0001/1"),
            ("agent", "question", "Hvem var på vagt?", "UTH-2026-0001/2"),
            ("agent", "feedback", "Tak for sagen.", ""),
        ]
        assert thread_of(session, session.get(Case, "c-2")) == []  # a feedback draft was never sent
    db.dispose()
