"""Learning agents judge pairs of cases "similar" or "not similar": on a real record store, role-checked, audited,
one judgement per agent and pair, whichever way round the pair is given."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from assistant.audit import events_for_case
from assistant.auth import Actor, Role
from assistant.errors import InvalidInput, NotAllowed, NotFound
from assistant.review import judge_similarity, judgements_for_case, list_judgements
from assistant.review.similarity_judgements import case_query_text, export_judgements
from assistant.store.tables import Case, LearningPoint
from tests.support.learning_cases import store_point

AGENT = Actor(user_id="a1", name="agent-anne", role=Role.learning_agent)
OTHER_AGENT = Actor(user_id="a2", name="agent-bo", role=Role.learning_agent)
ADMIN = Actor(user_id="ad", name="admin", role=Role.admin)
STAFF = Actor(user_id="s1", name="staff-sofie", role=Role.staff)

INSULIN = {"sector": "hospital", "title": "Dobbelt dosis insulin ved vagtskifte",
           "what_happened": "Patienten fik insulin to gange, fordi givet dosis ikke var noteret ved overlevering.",
           "category": "medicin"}
INSULIN_AGAIN = {"sector": "hospital", "title": "Insulin givet to gange efter overlevering",
                 "what_happened": "Aftenvagten gav insulin, som dagvagten allerede havde givet.",
                 "category": "medicin"}
FALL = {"sector": "municipality", "title": "Fald på badeværelset om natten",
        "what_happened": "Borgeren faldt på vej til toilettet; alarmen var ikke inden for rækkevidde.",
        "category": "fald"}


def case_of(db, point_id: str) -> tuple[str, str]:
    """(case id, case reference) of a stored point."""
    with db.session() as session:
        case = session.get(Case, session.get(LearningPoint, point_id).case_id)
        return case.id, case.reference


@pytest.fixture
def cases(db):
    """Three drafted cases: two about insulin given twice, one about a fall. Each as (id, reference)."""
    return [case_of(db, store_point(db, row)) for row in (INSULIN, INSULIN_AGAIN, FALL)]


def test_an_agent_marks_two_cases_similar_and_it_is_stored_and_audited_on_both(db, cases):
    (insulin, insulin_ref), (again, again_ref), _ = cases
    judge_similarity(db, AGENT, insulin_ref, again, similar=True, note="Samme overleveringsproblem")
    [judgement] = list_judgements(db)
    assert judgement.similar is True and judgement.judged_by == "agent-anne"
    assert {judgement.case_a_reference, judgement.case_b_reference} == {insulin_ref, again_ref}
    assert judgement.note == "Samme overleveringsproblem"
    for case_id in (insulin, again):
        [event] = events_for_case(db, case_id)
        assert event["action"] == "similarity_judgement" and event["actor"] == "agent-anne"
        assert event["before"] is None and event["after"]["similar"] is True
        assert {event["after"]["case_a"], event["after"]["case_b"]} == {insulin_ref, again_ref}


def test_staff_cannot_judge_similarity(db, cases):
    (insulin, _), (again, _), _ = cases
    with pytest.raises(NotAllowed):
        judge_similarity(db, STAFF, insulin, again, similar=True)
    assert list_judgements(db) == []
    assert events_for_case(db, insulin) == []


def test_an_admin_may_judge_similarity(db, cases):
    (insulin, _), _, (fall, _) = cases
    judge_similarity(db, ADMIN, insulin, fall, similar=False)
    assert [j.similar for j in list_judgements(db)] == [False]


def test_a_second_judgement_by_the_same_agent_replaces_the_first_and_the_audit_keeps_both(db, cases):
    (insulin, _), _, (fall, _) = cases
    judge_similarity(db, AGENT, insulin, fall, similar=True)
    judge_similarity(db, AGENT, insulin, fall, similar=False, note="Forskellige hændelser")
    [judgement] = list_judgements(db)
    assert judgement.similar is False and judgement.note == "Forskellige hændelser"
    events = events_for_case(db, insulin)
    assert [(e["before"] or {}).get("similar") for e in events] == [None, True]
    assert [e["after"]["similar"] for e in events] == [True, False]


def test_pair_order_does_not_matter(db, cases):
    (insulin, insulin_ref), (again, again_ref), _ = cases
    judge_similarity(db, AGENT, insulin, again, similar=True)
    judge_similarity(db, AGENT, again_ref, insulin_ref, similar=False)
    [judgement] = list_judgements(db)
    assert judgement.similar is False
    assert [j.similar for j in judgements_for_case(db, AGENT, again)] == [False]


def test_each_agent_keeps_their_own_judgement_of_a_pair(db, cases):
    (insulin, _), (again, _), _ = cases
    judge_similarity(db, AGENT, insulin, again, similar=True)
    judge_similarity(db, OTHER_AGENT, again, insulin, similar=False)
    assert sorted((j.judged_by, j.similar) for j in list_judgements(db)) == [("agent-anne", True), ("agent-bo", False)]


def test_a_case_cannot_be_judged_against_itself_or_a_case_that_does_not_exist(db, cases):
    (insulin, insulin_ref), _, _ = cases
    with pytest.raises(InvalidInput):
        judge_similarity(db, AGENT, insulin, insulin_ref, similar=True)
    with pytest.raises(NotFound):
        judge_similarity(db, AGENT, insulin, "UTH-1999-9999", similar=True)
    assert list_judgements(db) == []


def test_a_case_reads_to_the_search_as_its_drafted_points(db, cases):
    (insulin, _), _, _ = cases
    with db.session() as session:
        text = case_query_text(session, insulin)
    assert text.startswith("Dobbelt dosis insulin ved vagtskifte\nPatienten fik insulin")


def test_exported_judgements_are_one_json_line_each_with_both_references(db, cases, tmp_path):
    (insulin, insulin_ref), (again, again_ref), (fall, fall_ref) = cases
    judge_similarity(db, AGENT, insulin, again, similar=True)
    judge_similarity(db, AGENT, fall, insulin, similar=False)
    output = tmp_path / "judgements.jsonl"
    assert export_judgements(db, output) == 2
    lines = [json.loads(line) for line in output.read_text("utf-8").splitlines()]
    assert [(line["kind"], line["similar"]) for line in lines] == [("similarity_judgement", True),
                                                                  ("similarity_judgement", False)]
    assert {lines[1]["case_a"], lines[1]["case_b"]} == {insulin_ref, fall_ref}


def test_erasing_a_case_removes_its_judgements(db, index, settings, cases):
    from assistant.review import erase_case

    (insulin, _), (again, _), _ = cases
    judge_similarity(db, AGENT, insulin, again, similar=True)
    erase_case(db, index, settings, ADMIN, again)
    assert list_judgements(db) == []
    with db.session() as session:
        assert session.scalars(select(Case.id)).all().count(again) == 0
