"""Over HTTP: the team answers the learning agent's question in the Status tab (by receipt code in the open part,
or logged in), the agent sees the answer in the review, and the Review tab's queue filters by case status."""

from __future__ import annotations

import pytest

from tests.support.hardening_app import hand_in_notes, serve_app

QUESTION = "Hvilken insulinpen blev brugt?"


@pytest.fixture(scope="module")
def running_app(tmp_path_factory):
    with serve_app(tmp_path_factory.mktemp("answers")) as app:
        yield app


def chosen(update: dict | str) -> str:
    return update["value"] if isinstance(update, dict) else update


def returned_case(running_app, notes: str) -> dict:
    """Rita's case, its first point sent back with QUESTION by the learning agent Lars."""
    case = hand_in_notes(running_app, running_app.client("rita"), notes)
    agent = running_app.client("lars")
    _html, points = agent.predict("da", case["case_id"], api_name="/open_case")
    point_id = chosen(points)
    assert "sendt tilbage" in agent.predict("da", point_id, QUESTION, api_name="/send_back")
    return case | {"point_id": point_id}


def test_the_team_answers_by_receipt_code_in_the_open_part_and_the_agent_sees_it(running_app):
    case = returned_case(running_app, "Jens fik dobbelt dosis insulin ved vagtskiftet.\n\nDobbeltkontrollen fangede det.")
    anonymous = running_app.client()
    status = anonymous.predict("da", case["receipt"], api_name="/status_by_receipt")
    assert isinstance(status, str) and QUESTION in status

    html, cleared = anonymous.predict("da", case["receipt"], case["point_id"], "NovoPen; Jens fik den af Mette.",
                                      api_name="/answer_question_by_receipt")
    assert "Tak. Svaret er sendt til læringsagenten." in html and cleared == ""
    assert "db-question" not in html  # nothing left to answer; the question stays in the thread as history

    shown, _points = running_app.client("lars").predict("da", case["case_id"], api_name="/open_case")
    assert QUESTION in shown and "NovoPen; [PERSON_1] fik den af [PERSON_2]." in shown
    assert "Jens fik den" not in shown


def test_the_logged_in_reporter_answers_their_own_case_and_nobody_elses(running_app):
    case = returned_case(running_app, "Pumpealarmen blev overhørt i en travl vagt.\n\nDen blev opdaget ved stuegang.")
    assert QUESTION in running_app.client("rita").predict("da", api_name="/my_cases")
    with pytest.raises(Exception, match="findes ikke"):
        running_app.client("rolf").predict("da", case["point_id"], "Et svar fra en anden", api_name="/answer_question")
    html, _cleared = running_app.client("rita").predict("da", case["point_id"], "Den gamle pumpe på stue 3.",
                                                        api_name="/answer_question")
    assert "Svaret er sendt" in html
    shown, _points = running_app.client("lars").predict("da", case["case_id"], api_name="/open_case")
    assert "Den gamle pumpe på stue 3." in shown


def test_the_review_queue_filters_by_case_status(running_app):
    case = hand_in_notes(running_app, running_app.client("rita"),
                         "Sondemad blev givet i den forkerte sonde.\n\nKollegaen stoppede det.")
    agent = running_app.client("lars")
    _html, points = agent.predict("da", case["case_id"], api_name="/open_case")
    agent.predict("da", chosen(points), "staff", "", api_name="/approve")
    _queue, waiting = agent.predict("da", [], "", "", "", "", api_name="/review_queue")  # the open cases by default
    assert case["case_id"] not in [value for _label, value in waiting["choices"]]
    _queue, decided = agent.predict("da", [], "", "", "", "", ["decided"], api_name="/review_queue")
    assert [value for _label, value in decided["choices"]] == [case["case_id"]]
