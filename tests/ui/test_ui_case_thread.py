"""Over HTTP: the learning agent writes to the reporter in Review, the reporter reads it and replies on the open
status page by receipt code, and the agent sees the reply. The whole app runs on loopback (real SQLite, real index)
with fakes for speech, drafting and the chat model."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.hardening_app import hand_in_notes, serve_app
from tests.ui.test_ui_browser import browser, page  # noqa: F401 - pytest fixtures

WRONG_CODE = "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-F"


@pytest.fixture(scope="module")
def running_app(tmp_path_factory):
    # Every anonymous call here comes from one address: lookups are not what these tests limit.
    with serve_app(tmp_path_factory.mktemp("thread"), receipt_lookups_per_minute=1000,
                   reporter_messages_per_minute=3) as app:
        yield app


NOTES = "Jens fik dobbelt dosis insulin ved vagtskiftet.\n\nMette opdagede det."


def new_case(running_app, notes: str = NOTES) -> dict:
    return hand_in_notes(running_app, running_app.client("rita"), notes)


def bodies(html: str) -> list[str]:
    """The message texts of a thread as shown, in order."""
    return re.findall(r'<p class="db-message-body">(.*?)</p>', html, re.DOTALL)


def test_the_agent_writes_the_reporter_replies_by_receipt_and_the_agent_sees_the_reply_in_order(running_app):
    case = new_case(running_app)
    agent = running_app.client("lars")
    sent, thread, cleared = agent.predict("da", case["case_id"], "Tak for indberetningen. Hvornår skete det?",
                                          api_name="/write_to_reporter")
    assert "Beskeden er sendt" in sent and cleared == ""
    assert bodies(thread) == ["Tak for indberetningen. Hvornår skete det?"]

    anonymous = running_app.client()
    status = anonymous.predict("da", case["receipt"], api_name="/status_by_receipt")
    assert "Beskeder med læringsagenten" in status and "Hvornår skete det?" in status

    html, cleared = anonymous.predict("da", case["receipt"], "Ved vagtskiftet; Jens var alene.",
                                      api_name="/reply_by_receipt")
    assert "Tak. Beskeden er sendt til læringsagenten." in html and cleared == ""
    assert bodies(html) == ["Tak for indberetningen. Hvornår skete det?", "Ved vagtskiftet; [PERSON_1] var alene."]

    agent.predict("da", case["case_id"], "Tak. Var der travlt?", api_name="/write_to_reporter")
    shown = agent.predict("da", case["case_id"], api_name="/case_thread")
    assert bodies(shown) == ["Tak for indberetningen. Hvornår skete det?", "Ved vagtskiftet; [PERSON_1] var alene.",
                             "Tak. Var der travlt?"]
    assert "Jens" not in shown
    assert "The reporter" in agent.predict("en", case["case_id"], api_name="/case_thread")


def test_a_wrong_receipt_code_gets_the_same_answer_as_an_unknown_code_and_sends_nothing(running_app):
    anonymous = running_app.client()
    with pytest.raises(Exception, match="Kvitteringskoden findes ikke") as on_lookup:
        anonymous.predict("da", WRONG_CODE, api_name="/status_by_receipt")
    with pytest.raises(Exception, match="Kvitteringskoden findes ikke") as on_reply:
        anonymous.predict("da", WRONG_CODE, "Hej, er der nogen?", api_name="/reply_by_receipt")
    assert str(on_reply.value) == str(on_lookup.value)


def test_a_too_long_message_is_refused_in_the_readers_language(running_app):
    case = new_case(running_app, "Pumpealarmen blev overhørt.\n\nDen blev opdaget ved stuegang.")
    anonymous = running_app.client()
    with pytest.raises(Exception, match="The message is too long"):
        anonymous.predict("en", case["receipt"], "x" * 4001, api_name="/reply_by_receipt")
    assert bodies(anonymous.predict("da", case["receipt"], api_name="/status_by_receipt")) == []


def test_a_reporter_can_send_three_messages_a_minute_on_a_case(running_app):
    case = new_case(running_app, "Sondemad blev givet i den forkerte sonde.\n\nKollegaen stoppede det.")
    anonymous = running_app.client()
    for n in range(3):
        anonymous.predict("da", case["receipt"], f"Besked {n + 1}", api_name="/reply_by_receipt")
    with pytest.raises(Exception, match="højst 3 i minuttet"):
        anonymous.predict("da", case["receipt"], "Besked 4", api_name="/reply_by_receipt")
    shown = running_app.client("lars").predict("da", case["case_id"], api_name="/case_thread")
    assert bodies(shown) == ["Besked 1", "Besked 2", "Besked 3"]


def test_staff_without_the_learning_agent_role_cannot_write_to_the_reporter(running_app):
    case = new_case(running_app, "Patienten faldt på badeværelset.\n\nAlarmen virkede ikke.")
    with pytest.raises(Exception, match="giver ikke adgang"):
        running_app.client("sofie").predict("da", case["case_id"], "Hej fra en kollega", api_name="/write_to_reporter")
    assert bodies(running_app.client().predict("da", case["receipt"], api_name="/status_by_receipt")) == []


def test_when_the_case_is_decided_the_released_feedback_appears_in_the_reporters_thread(running_app):
    case = new_case(running_app, "Forkert blodprøveglas blev brugt.\n\nLaboratoriet ringede straks.")
    agent = running_app.client("lars")
    _html, points = agent.predict("da", case["case_id"], api_name="/open_case")
    point_id = points["value"] if isinstance(points, dict) else points
    agent.predict("da", point_id, "staff", "", api_name="/approve")
    agent.predict("da", case["case_id"], "Tak. Jeres læringspunkt deles nu i afdelingen.",
                  api_name="/release_feedback")
    status = running_app.client().predict("da", case["receipt"], api_name="/status_by_receipt")
    assert "Gennemgået" in status
    assert "Læringsagentens tilbagemelding" in status
    assert bodies(status)[-1] == "Tak. Jeres læringspunkt deles nu i afdelingen."


def test_the_logged_in_reporter_writes_on_their_own_case_and_nobody_elses(running_app):
    case = new_case(running_app, "Medicinen blev givet til forkert patient.\n\nDet blev opdaget ved næste runde.")
    with pytest.raises(Exception, match="findes ikke"):
        running_app.client("rolf").predict("da", case["case_id"], "Ikke min sag", api_name="/reply_as_reporter")
    html, cleared = running_app.client("rita").predict("da", case["case_id"], "Vi har talt om det på tavlemødet.",
                                                       api_name="/reply_as_reporter")
    assert "Beskeden er sendt" in html and cleared == ""
    shown = running_app.client("lars").predict("da", case["case_id"], api_name="/case_thread")
    assert bodies(shown) == ["Vi har talt om det på tavlemødet."]


def test_a_reporter_reads_and_answers_the_agent_on_the_open_status_page_in_a_browser(running_app, page, artifacts_dir):
    case = new_case(running_app, "Blodsukkeret blev ikke målt før måltidet.\n\nSygeplejersken opdagede det.")
    running_app.client("lars").predict("da", case["case_id"], "Tak. Hvordan blev det opdaget?",
                                       api_name="/write_to_reporter")
    page.goto(running_app.url + "/public/")
    page.get_by_role("tab", name="Status").click()
    page.get_by_label("Kvitteringskode").fill(case["receipt"])
    page.get_by_role("button", name="Vis status").click()
    expect(page.locator(".db-thread")).to_contain_text("Tak. Hvordan blev det opdaget?")
    page.get_by_label("Skriv til læringsagenten").fill("Ved aftenrunden, <b>ikke</b> før.")
    page.get_by_role("button", name="Send besked").click()
    expect(page.locator(".db-thread .db-message-reporter")).to_contain_text("Ved aftenrunden, <b>ikke</b> før.")
    page.screenshot(path=artifacts_dir / "ui-da-case-thread.png", full_page=True)
