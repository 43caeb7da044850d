"""The thread between a case's learning agent and its reporter: messages in order on both sides, pseudonymised
before they are stored, audited, limited in length and rate; questions, answers and released feedback join it.
Real record store (SQLite, migrated); fake speech and drafting; the real pseudonymiser where names and CPR matter."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import select

from assistant.audit import events_for_case
from assistant.auth import Actor, Role, add_user
from assistant.errors import InvalidInput, NotAllowed, NotFound
from assistant.intake import submit_notes
from assistant.models import CaseContext
from assistant.privacy.pseudonymise import Pseudonymiser
from assistant.review import (
    answer_question_by_receipt,
    approve,
    release_feedback,
    save_feedback,
    send_back,
    status_by_receipt,
)
from assistant.review.case_thread import (
    MessageLimiter,
    reply_as_reporter,
    reply_by_receipt,
    thread_for_case,
    write_to_reporter,
)
from assistant.store.tables import CaseMessage, LearningPoint
from tests.support.fakes import FakePseudonymiser
from tests.support.review_cases import NOTES, hand_in_drafted
from ui.render import status_html

AGENT = Actor(user_id="a1", name="agent-anne", role=Role.learning_agent)
STAFF = Actor(user_id="s1", name="sygeplejerske-sara", role=Role.staff)
WRONG_CODE = "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-F"


@pytest.fixture
def case(db, settings, monkeypatch):
    """A drafted case handed in with typed notes: its submission (case id and receipt code)."""
    return hand_in_drafted(db, settings, monkeypatch)


def said(messages) -> list[tuple[str, str, str]]:
    return [(m.author.value, m.kind.value, m.body) for m in messages]


def test_the_agent_writes_the_reporter_reads_it_by_receipt_and_replies_and_the_agent_sees_the_reply_in_order(
        db, case):
    write_to_reporter(db, FakePseudonymiser(), AGENT, case.case_id, "Tak for indberetningen. Hvornår skete det?")
    seen = status_by_receipt(db, case.receipt_code)
    assert said(seen.messages) == [("agent", "message", "Tak for indberetningen. Hvornår skete det?")]

    reply_by_receipt(db, FakePseudonymiser(), case.receipt_code, "Ved vagtskiftet kl. 15.")
    write_to_reporter(db, FakePseudonymiser(), AGENT, case.case_id, "Tak. Var der travlt?")
    reply_by_receipt(db, FakePseudonymiser(), case.receipt_code, "Ja, to var syge.")

    expected = [("agent", "message", "Tak for indberetningen. Hvornår skete det?"),
                ("reporter", "message", "Ved vagtskiftet kl. 15."),
                ("agent", "message", "Tak. Var der travlt?"),
                ("reporter", "message", "Ja, to var syge.")]
    assert said(thread_for_case(db, AGENT, case.case_id)) == expected
    assert said(status_by_receipt(db, case.receipt_code).messages) == expected
    html = status_html(status_by_receipt(db, case.receipt_code), "da")
    assert "Beskeder med læringsagenten" in html
    assert html.index("Hvornår skete det?") < html.index("Ved vagtskiftet") < html.index("to var syge")


def test_a_name_and_a_cpr_number_in_a_reply_are_pseudonymised_before_they_are_stored(db, settings, case):
    real = Pseudonymiser(settings)
    reply_by_receipt(db, real, case.receipt_code, "Det var Jens, CPR 010190-1234, og Karen Jensen så det.")
    with db.session() as session:
        stored = session.scalars(select(CaseMessage.body).where(CaseMessage.case_id == case.case_id)).all()
    assert len(stored) == 1
    assert "Jens" not in stored[0] and "010190-1234" not in stored[0] and "Karen" not in stored[0]
    assert "[CPR_" in stored[0]
    # Jens already had a placeholder from the notes; the reply uses the same one.
    assert stored[0].startswith("Det var [PERSON_1],")
    events = [e for e in events_for_case(db, case.case_id) if e["action"] == "thread_message"]
    assert "010190-1234" not in str(events) and "Jens" not in str(events)


def test_every_message_is_audited_with_who_and_what_but_never_the_receipt_code(db, case):
    write_to_reporter(db, FakePseudonymiser(), AGENT, case.case_id, "Hvem opdagede det?")
    reply_by_receipt(db, FakePseudonymiser(), case.receipt_code, "Mette opdagede det.")
    events = [e for e in events_for_case(db, case.case_id) if e["action"] == "thread_message"]
    assert [(e["actor"], e["role"], e["after"]["author"]) for e in events] == [
        ("agent-anne", "learning_agent", "agent"), ("receipt-holder", "reporter", "reporter")]
    thread = thread_for_case(db, AGENT, case.case_id)
    assert [e["after"]["message_id"] for e in events] == [m.id for m in thread]
    assert [e["after"]["body"] for e in events] == [m.body for m in thread]
    assert all(e["at"] is not None for e in events)
    assert case.receipt_code not in str(events)


def test_a_wrong_receipt_code_shows_nothing_and_reads_like_an_unknown_code(db, settings, case):
    write_to_reporter(db, FakePseudonymiser(), AGENT, case.case_id, "Et spørgsmål kun til denne sag.")
    with pytest.raises(NotFound) as on_lookup:
        status_by_receipt(db, WRONG_CODE)
    with pytest.raises(NotFound) as on_reply:
        reply_by_receipt(db, FakePseudonymiser(), WRONG_CODE, "Hej")
    assert on_reply.value.message("da") == on_lookup.value.message("da")
    other = submit_notes(db, settings, "Pumpealarmen blev overhørt.\n\nDen blev opdaget ved stuegang.",
                         CaseContext())
    assert status_by_receipt(db, other.receipt_code).messages == []  # another case's code opens only its own
    assert said(thread_for_case(db, AGENT, case.case_id)) == [("agent", "message", "Et spørgsmål kun til denne sag.")]


def test_a_too_long_or_empty_message_is_refused_with_a_translated_error(db, case):
    with pytest.raises(InvalidInput) as too_long:
        reply_by_receipt(db, FakePseudonymiser(), case.receipt_code, "x" * 4001)
    assert too_long.value.key == "thread.message_too_long"
    assert "højst være 4000 tegn" in too_long.value.message("da")
    assert "at most 4000 characters" in too_long.value.message("en")
    with pytest.raises(InvalidInput) as empty:
        write_to_reporter(db, FakePseudonymiser(), AGENT, case.case_id, "   ")
    assert empty.value.message("da") == "Skriv en besked, før du sender."
    assert status_by_receipt(db, case.receipt_code).messages == []


def test_the_reporter_may_send_only_so_many_messages_a_minute_per_case(db, settings, case):
    now = [0.0]
    per_case = MessageLimiter(per_minute=2, clock=lambda: now[0])
    for text in ("Første", "Anden"):
        reply_by_receipt(db, FakePseudonymiser(), case.receipt_code, text, message_limiter=per_case)
    with pytest.raises(NotAllowed) as refused:  # a new address does not help: the count is per case
        reply_by_receipt(db, FakePseudonymiser(), case.receipt_code, "Tredje", client="10.0.0.9",
                         message_limiter=per_case)
    assert refused.value.key == "thread.too_many_messages"
    assert "højst 2 i minuttet" in refused.value.message("da")
    other = submit_notes(db, settings, "Pumpealarmen blev overhørt.\n\nDen blev opdaget ved stuegang.",
                         CaseContext())
    reply_by_receipt(db, FakePseudonymiser(), other.receipt_code, "En anden sag", message_limiter=per_case)
    now[0] = 61.0
    reply_by_receipt(db, FakePseudonymiser(), case.receipt_code, "Tredje", message_limiter=per_case)
    assert [m.body for m in thread_for_case(db, AGENT, case.case_id)] == ["Første", "Anden", "Tredje"]


def test_staff_without_the_learning_agent_role_can_neither_write_nor_read_the_thread(db, case):
    with pytest.raises(NotAllowed):
        write_to_reporter(db, FakePseudonymiser(), STAFF, case.case_id, "Hej fra en kollega")
    with pytest.raises(NotAllowed):
        thread_for_case(db, STAFF, case.case_id)
    with pytest.raises(NotAllowed):
        write_to_reporter(db, FakePseudonymiser(), Actor(), case.case_id, "Hej")
    assert status_by_receipt(db, case.receipt_code).messages == []


def test_a_question_on_a_point_and_the_answer_join_the_thread_between_messages(db, case):
    with db.session() as session:
        point_id = session.scalar(select(LearningPoint.id).where(LearningPoint.case_id == case.case_id))
    write_to_reporter(db, FakePseudonymiser(), AGENT, case.case_id, "Tak for sagen.")
    send_back(db, AGENT, point_id, question="Hvilken insulinpen blev brugt?")
    answer_question_by_receipt(db, FakePseudonymiser(), case.receipt_code, point_id, "NovoPen.")
    reply_by_receipt(db, FakePseudonymiser(), case.receipt_code, "Sig til, hvis I vil vide mere.")
    thread = status_by_receipt(db, case.receipt_code).messages
    assert said(thread) == [("agent", "message", "Tak for sagen."),
                            ("agent", "question", "Hvilken insulinpen blev brugt?"),
                            ("reporter", "answer", "NovoPen."),
                            ("reporter", "message", "Sig til, hvis I vil vide mere.")]
    assert thread[1].point_reference.endswith("/1") and thread[1].point_reference == thread[2].point_reference
    html = status_html(status_by_receipt(db, case.receipt_code), "da")
    assert f"Læringsagenten spørger om læringspunkt {thread[1].point_reference}" in html


def test_when_the_case_is_decided_the_released_feedback_appears_in_the_thread(db, index, case):
    with db.session() as session:
        point_id = session.scalar(select(LearningPoint.id).where(LearningPoint.case_id == case.case_id))
    write_to_reporter(db, FakePseudonymiser(), AGENT, case.case_id, "Vi ser på sagen nu.")
    approve(db, index, AGENT, point_id)
    save_feedback(db, AGENT, case.case_id, "Et udkast, som kun læringsagenten ser.")
    assert [m.kind.value for m in status_by_receipt(db, case.receipt_code).messages] == ["message"]

    release_feedback(db, AGENT, case.case_id, "Tak. Jeres læringspunkt om dobbeltkontrol deles nu i afdelingen.")
    decided = status_by_receipt(db, case.receipt_code)
    assert decided.status == "decided"
    assert said(decided.messages)[-1] == (
        "agent", "feedback", "Tak. Jeres læringspunkt om dobbeltkontrol deles nu i afdelingen.")
    assert "Et udkast" not in str(decided.messages)
    assert "Læringsagentens tilbagemelding" in status_html(decided, "da")
    assert "The learning agent's feedback" in unescape(status_html(decided, "en"))


def test_the_logged_in_reporter_writes_on_their_own_case_only(db, settings):
    rita = add_user(db, "rita", Role.reporter, "korrekt-hest-batteri")
    rolf = add_user(db, "rolf", Role.reporter, "korrekt-hest-batteri")
    mine = submit_notes(db, settings, NOTES, CaseContext(), reporter_id=rita.user_id)
    with pytest.raises(NotFound):
        reply_as_reporter(db, FakePseudonymiser(), rolf, mine.case_id, "Ikke min sag")
    reply_as_reporter(db, FakePseudonymiser(), rita, mine.case_id, "Min sag; Mette var der.")
    assert said(thread_for_case(db, AGENT, mine.case_id)) == [("reporter", "message", "Min sag; [PERSON_1] var der.")]


def test_user_text_in_the_thread_is_shown_as_text_never_as_html(db, case):
    reply_by_receipt(db, FakePseudonymiser(), case.receipt_code, '<img src=x onerror="alert(1)"><b>fed</b>')
    html = status_html(status_by_receipt(db, case.receipt_code), "da")
    assert "<img" not in html and "<b>fed" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_erasing_a_case_takes_its_thread_with_it(db, index, settings, case):
    from assistant.review import erase_case

    reply_by_receipt(db, FakePseudonymiser(), case.receipt_code, "Et svar, der skal væk igen.")
    erase_case(db, index, settings, Actor(user_id="ad", name="admin-adam", role=Role.admin), case.case_id)
    with db.session() as session:
        assert session.scalars(select(CaseMessage)).all() == []
    assert "skal væk igen" not in str(events_for_case(db, case.case_id))
