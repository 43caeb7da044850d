"""What a reporter sees of their case and how the team answers a question the learning agent sent back:
by receipt code or logged in, pseudonymised with the case's own map, audited, back in the review queue.
Real record store and real Chroma index; fake speech, pseudonymiser and drafting models."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from assistant.audit import events_for_case
from assistant.auth import Actor, Role, add_user
from assistant.cases import LookupLimiter
from assistant.errors import InvalidInput, NotAllowed, NotFound
from assistant.intake import submit_notes
from assistant.jobs import Components, run_job
from assistant.models import CaseContext
from assistant.review import (
    answer_question_as_reporter,
    answer_question_by_receipt,
    approve,
    job_error_message,
    my_cases,
    open_case,
    review_queue,
    send_back,
    status_by_receipt,
    status_for_reporter,
)
from assistant.store.tables import LearningPoint, PseudonymEntry
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft
from tests.support.review_cases import NOTES, hand_in_drafted
from ui.render import case_html, status_html

AGENT = Actor(user_id="a1", name="agent-anne", role=Role.learning_agent)
QUESTION = "Hvilken insulinpen blev brugt, og hvem dobbeltkontrollerede?"
# Jens and Mette are already in the case's map; Karen is new in the answer.
ANSWER = "Det var NovoPen; Jens' dosis blev tjekket af Mette og Karen ved overleveringen."


def two_point_draft(segments, context, chat, settings, *, isbar=None, progress=None):
    """The fake draft with a second point, so a case can be half decided."""
    draft = fake_draft(segments, context, chat, settings, isbar=isbar, progress=progress)
    second = draft.learning_points[0].model_copy(update={"title": "Åben snak i teamet efter fejlen"})
    return draft.model_copy(update={"learning_points": [draft.learning_points[0], second]})


@pytest.fixture
def reporter(db):
    return add_user(db, "rita", Role.reporter, "korrekt-hest-batteri")


@pytest.fixture
def drafted(db, settings, reporter, monkeypatch):
    """Rita's case, drafted with two learning points: (submission, [point ids])."""
    submission = hand_in_drafted(db, settings, monkeypatch, draft=two_point_draft, reporter_id=reporter.user_id)
    with db.session() as session:
        points = session.scalars(select(LearningPoint.id).where(LearningPoint.case_id == submission.case_id)
                                 .order_by(LearningPoint.position)).all()
    return submission, list(points)


def answering_pseudonymiser() -> FakePseudonymiser:
    return FakePseudonymiser(names=("Jens", "Mette", "Karen"))


def test_the_reporter_sees_the_agents_question_by_receipt_and_when_logged_in(db, drafted, reporter):
    submission, (point_id, _) = drafted
    send_back(db, AGENT, point_id, question=QUESTION)
    by_code = status_by_receipt(db, submission.receipt_code)
    assert [(q.point_id, q.question) for q in by_code.questions] == [(point_id, QUESTION)]
    assert by_code.questions[0].title == "Dobbeltkontrol af insulin ved vagtskifte"
    logged_in = status_for_reporter(db, reporter, submission.case_id)
    assert [q.question for q in logged_in.questions] == [QUESTION]
    assert [q.question for q in my_cases(db, reporter)[0].questions] == [QUESTION]
    html = status_html(by_code, "da")
    assert QUESTION in html and "Spørgsmål fra læringsagenten" in html
    assert "Questions from the learning agent" in status_html(by_code, "en")


def test_an_answer_is_pseudonymised_with_the_cases_map_and_sends_the_point_back_to_the_queue(db, drafted):
    submission, (point_id, _) = drafted
    send_back(db, AGENT, point_id, question=QUESTION)
    assert review_queue(db, AGENT)[0].status == "in_review"
    with db.session() as session:
        known = {e.original: e.placeholder for e in session.scalars(
            select(PseudonymEntry).where(PseudonymEntry.case_id == submission.case_id))}
    assert set(known) == {"Jens", "Mette"}

    after = answer_question_by_receipt(db, answering_pseudonymiser(), submission.receipt_code, point_id, ANSWER)

    assert after.questions == []  # answered: nothing left to answer
    with db.session() as session:
        point = session.get(LearningPoint, point_id)
        stored = point.reporter_answer
        assert point.status == "draft" and point.reporter_question == QUESTION
        entries = {e.original: e.placeholder for e in session.scalars(
            select(PseudonymEntry).where(PseudonymEntry.case_id == submission.case_id))}
    assert stored == (f"Det var NovoPen; {known['Jens']}' dosis blev tjekket af {known['Mette']} og "
                      f"{entries['Karen']} ved overleveringen.")
    assert not any(name in stored for name in ("Jens", "Mette", "Karen"))
    assert entries["Jens"] == known["Jens"] and entries["Karen"] not in known.values()
    # Back in the queue, with question and answer beside the point for the agent.
    queued = review_queue(db, AGENT)
    assert [(i.case_id, i.status, i.pending_points) for i in queued] == [(submission.case_id, "awaiting_review", 2)]
    view = open_case(db, AGENT, submission.case_id)
    shown = next(p for p in view.learning_points if p.id == point_id)
    assert (shown.reporter_question, shown.reporter_answer) == (QUESTION, stored)
    html = case_html(view, "da")
    assert QUESTION in html and entries["Karen"] in html and "Svar fra teamet" in html
    assert "Answer from the team" in case_html(view, "en")


def test_the_logged_in_reporter_answers_their_own_case_only(db, drafted, reporter):
    submission, (point_id, _) = drafted
    send_back(db, AGENT, point_id, question=QUESTION)
    someone_else = add_user(db, "rolf", Role.reporter, "korrekt-hest-batteri")
    with pytest.raises(NotFound):
        answer_question_as_reporter(db, answering_pseudonymiser(), someone_else, point_id, ANSWER)
    with pytest.raises(NotFound):
        answer_question_as_reporter(db, answering_pseudonymiser(), Actor(), point_id, ANSWER)
    with db.session() as session:
        assert session.get(LearningPoint, point_id).status == "returned"

    after = answer_question_as_reporter(db, answering_pseudonymiser(), reporter, point_id, ANSWER)
    assert after.case_id == submission.case_id and after.questions == []
    with db.session() as session:
        assert session.get(LearningPoint, point_id).status == "draft"


def test_the_answer_is_audited_with_who_when_and_before_after(db, drafted, reporter):
    submission, (point_id, other_id) = drafted
    send_back(db, AGENT, point_id, question=QUESTION)
    send_back(db, AGENT, other_id, question="Blev der talt om det bagefter?")
    answer_question_by_receipt(db, answering_pseudonymiser(), submission.receipt_code, point_id, ANSWER)
    answer_question_as_reporter(db, answering_pseudonymiser(), reporter, other_id, "Ja, på tavlemødet.")
    events = [e for e in events_for_case(db, submission.case_id) if e["action"] == "reporter_answer"]
    assert [(e["actor"], e["role"], e["learning_point_id"]) for e in events] == [
        ("receipt-holder", "reporter", point_id), ("rita", "reporter", other_id)]
    first = events[0]
    assert first["at"] is not None
    assert first["before"]["status"] == "returned" and first["before"]["reporter_answer"] is None
    assert first["after"]["status"] == "draft" and first["after"]["reporter_question"] == QUESTION
    assert first["after"]["reporter_answer"].startswith("Det var NovoPen;") and "Karen" not in first["after"]["reporter_answer"]
    assert submission.receipt_code not in str(events)


def test_receipt_answers_count_against_the_same_limit_as_lookups(db, drafted):
    submission, (point_id, _) = drafted
    send_back(db, AGENT, point_id, question=QUESTION)
    limiter = LookupLimiter(per_minute=2)
    status_by_receipt(db, submission.receipt_code, client="10.0.0.7", limiter=limiter)
    with pytest.raises(NotFound):  # a guessed code is counted too
        answer_question_by_receipt(db, answering_pseudonymiser(), "GAETTE-KODE-00001", point_id, ANSWER,
                                   client="10.0.0.7", limiter=limiter)
    with pytest.raises(NotAllowed) as refused:  # even with the right code
        answer_question_by_receipt(db, answering_pseudonymiser(), submission.receipt_code, point_id, ANSWER,
                                   client="10.0.0.7", limiter=limiter)
    assert refused.value.key == "receipt.too_many_lookups"
    with db.session() as session:
        assert session.get(LearningPoint, point_id).status == "returned"
    answer_question_by_receipt(db, answering_pseudonymiser(), submission.receipt_code, point_id, ANSWER,
                               client="10.0.0.8", limiter=limiter)  # another client is not affected


def test_only_an_open_question_of_the_same_case_can_be_answered(db, settings, drafted):
    submission, (point_id, _) = drafted
    with pytest.raises(InvalidInput) as not_asked:
        answer_question_by_receipt(db, answering_pseudonymiser(), submission.receipt_code, point_id, ANSWER)
    assert not_asked.value.key == "review.no_open_question"
    send_back(db, AGENT, point_id, question=QUESTION)
    with pytest.raises(InvalidInput) as empty:
        answer_question_by_receipt(db, answering_pseudonymiser(), submission.receipt_code, point_id, "   ")
    assert empty.value.key == "review.answer_required"
    with pytest.raises(InvalidInput):
        answer_question_by_receipt(db, answering_pseudonymiser(), submission.receipt_code, point_id, "x" * 4001)
    other_case = submit_notes(db, settings, "Pumpealarmen blev overhørt.\n\nDen blev opdaget ved stuegang.",
                              CaseContext())
    with pytest.raises(NotFound):  # a receipt code opens its own case's points, no others
        answer_question_by_receipt(db, answering_pseudonymiser(), other_case.receipt_code, point_id, ANSWER)
    with pytest.raises(NotFound):
        answer_question_by_receipt(db, answering_pseudonymiser(), "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-F", point_id,
                                   ANSWER)
    answer_question_by_receipt(db, answering_pseudonymiser(), submission.receipt_code, point_id, ANSWER)
    with pytest.raises(InvalidInput):  # answered once; a second answer needs a new question
        answer_question_by_receipt(db, answering_pseudonymiser(), submission.receipt_code, point_id, "Og mere.")


def test_approved_points_are_shown_to_the_reporter_only_once_the_case_is_decided(db, index, drafted):
    submission, (first, second) = drafted
    approve(db, index, AGENT, first)
    half = status_by_receipt(db, submission.receipt_code)
    assert half.status == "in_review" and half.approved_points == []
    assert "Dobbeltkontrol af insulin" not in status_html(half, "da")
    approve(db, index, AGENT, second)
    decided = status_by_receipt(db, submission.receipt_code)
    assert decided.status == "decided"
    assert [p.id for p in decided.approved_points] == [first, second]
    assert "2 af 2 læringspunkter er godkendt" in status_html(decided, "da")


class LeakyPseudonymiser:
    """Breaks with an exception message that quotes the notes, as parsers and validators do."""

    def pseudonymise_many(self, texts, known=None):
        raise ValueError(f"could not parse {texts[0]!r}")


def test_reporters_see_a_failed_jobs_message_never_its_raw_error(db, settings):
    components = Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=LeakyPseudonymiser(),
                            chat_=FakeChat())
    submission = submit_notes(db, settings, NOTES, CaseContext())
    failed = run_job(db, components, submission.job_id)
    # Staff get the error's type and stage; its message, which quotes the notes before pseudonymisation, is not kept.
    assert "ValueError" in failed.error and "Jens" not in failed.error
    status = status_by_receipt(db, submission.receipt_code)
    assert status.job.error is None and status.job.error_key == "error.unexpected"
    html = status_html(status, "da")
    assert "Jens" not in html and "ValueError" not in html
    assert "Der skete en uventet fejl" in html


def test_a_job_error_that_needs_details_reads_as_a_general_sentence_for_reporters():
    assert job_error_message("model.unavailable", "da") == (
        "Behandlingen af sagen stoppede. Læringsagenten kan se hvorfor og starte den igen.")
    assert job_error_message("audio.no_speech", "en") == "No speech was found in the recording. No draft was made."
    assert job_error_message(None, "en").startswith("Processing of the case stopped")


def test_an_anonymous_actor_never_reads_a_case_handed_in_without_a_reporter(db, settings):
    from assistant.review import status_for_reporter

    submission = submit_notes(db, settings, "Pumpens alarm blev overhørt i en travl vagt.", CaseContext())
    with pytest.raises(NotAllowed):
        status_for_reporter(db, Actor(), submission.case_id)  # None (no account) is not the missing reporter
