"""The Debrief and Guide tabs through the app's API as different users: identical hand-ins, correcting the
transcript and drafting again, who may run a guide, following guide notes to their draft, and the start
language. The app runs for real on loopback with the small fakes of ``tests/support/hardening_app``."""

from __future__ import annotations

import re
from types import SimpleNamespace

import gradio as gr
import pytest

from assistant.auth import Role, add_user
from assistant.jobs import Components, Runtime
from assistant.settings import Settings
from assistant.store.tables import Draft
from tests.support.fakes import FakePseudonymiser, FakeTranscriber
from tests.support.hardening_app import hand_in_notes, serve_app


@pytest.fixture(scope="module")
def running_app(tmp_path_factory):
    with serve_app(tmp_path_factory.mktemp("case-flow")) as app:
        yield app


def value_of(update) -> str:
    return update["value"] if isinstance(update, dict) else update


def test_identical_notes_from_another_user_get_only_word_that_they_came_before(running_app):
    notes = "Jens fik penicillin trods kendt allergi.\n\nSygeplejersken opdagede det ved dobbeltkontrollen."
    ritas = hand_in_notes(running_app, running_app.client("rita"), notes)
    rolf = running_app.client("rolf")
    with pytest.raises(Exception) as refused:
        rolf.predict("da", None, notes, "hospital", "Akutmodtagelsen", "2026-11-02", "Medicinering", False,
                     api_name="/submit")
    assert "allerede indsendt af en anden" in str(refused.value)
    assert ritas["case_id"] not in str(refused.value) and ritas["reference"] not in str(refused.value)
    assert rolf.predict("da", api_name="/watch") == ("", "")  # nothing of Rita's case to follow
    assert "penicillin" not in str(rolf.predict("da", api_name="/watch_transcript"))
    again = running_app.client("rita").predict("da", None, notes, "hospital", "", "", "", False, api_name="/submit")
    assert ritas["reference"] in again[0] and "allerede modtaget" in again[0]


def test_watching_refuses_a_case_that_is_not_the_users_own(running_app):
    from ui.debrief_tab import watch_job

    ritas = hand_in_notes(running_app, running_app.client("rita"), "Pumpen til stue 3 stod på forkert hastighed.")
    running_app.client("rolf")  # logged in, so the app knows who "rolf" is
    state = {"case_id": ritas["case_id"], "job_id": "whatever", "kind": "notes"}
    with pytest.raises(gr.Error, match=r"Din rolle \(reporter\) giver ikke adgang"):
        list(watch_job(running_app.context)("da", state, SimpleNamespace(username="rolf")))
    shown = list(watch_job(running_app.context)("da", {**state, "job_id": _latest_job(running_app, ritas)},
                                               SimpleNamespace(username="rita")))
    assert "Dobbeltkontrol af insulin ved vagtskifte" in shown[-1][1]


def _latest_job(running_app, shown: dict) -> str:
    from assistant.cases import load_case

    return load_case(running_app.runtime.db, shown["case_id"]).jobs[-1].job_id


def test_a_reporter_corrects_the_transcript_and_follows_the_new_draft(running_app):
    rita = running_app.client("rita")
    shown = hand_in_notes(running_app, rita,
                          "Mette gav morfin til den forkerte patient.\n\nVi stoppede og ringede til lægen.")
    text = value_of(rita.predict("da", api_name="/watch_transcript"))  # the Redraft button is no API output
    assert text.splitlines()[0] == "[0] [PERSON_1] gav morfin til den forkerte patient."
    edited = text.replace("den forkerte patient", "patienten på stue 6, sagde Jens")
    message = rita.predict("da", edited, api_name="/redraft")
    assert shown["reference"] in message and shown["case_id"] not in message and "nyt udkast" in message
    progress, draft = rita.predict("da", api_name="/redraft_watch")
    assert "Færdig" in progress
    assert "[PERSON_1] gav morfin til patienten på stue 6, sagde [PERSON_2]." in draft and "Jens" not in draft
    with running_app.runtime.db.session() as session:
        assert session.query(Draft).filter_by(case_id=shown["case_id"]).count() == 2
    assert "patienten på stue 6" in value_of(rita.predict("da", api_name="/redraft_watch_transcript"))


def test_another_user_cannot_redraft_without_a_case_of_their_own(running_app):
    with pytest.raises(Exception, match="ingen transskription"):
        running_app.client("rolf").predict("da", "[0] Noget andet.", api_name="/redraft")


@pytest.mark.parametrize("user", ["rita", "sofie"])
def test_reporters_and_staff_cannot_run_a_conversation_guide(running_app, user):
    client = running_app.client(user)
    with pytest.raises(Exception, match=r"Din rolle \(\w+\) giver ikke adgang"):
        client.predict("da", "hot_debrief", api_name="/guide_start")
    with pytest.raises(Exception, match=r"Din rolle \(\w+\) giver ikke adgang"):
        client.predict("da", "Noter", "hospital", "", "", "", api_name="/guide_submit")


def test_a_facilitator_sees_progress_and_the_draft_after_handing_in_guide_notes(running_app):
    frida = running_app.client("frida")
    frida.predict("da", "hot_debrief", api_name="/guide_start")
    message, receipt, _timer = frida.predict("da", "Aftenvagt, Jens faldt ved sengen; vi talte åbent om det.", "hospital",
                                     "Medicinsk afsnit", "2026-11-03", "Fald", api_name="/guide_submit")
    assert re.search(r"sag UTH-\d{4}-\d{4}\b", message) and receipt  # the reference people read, not the id
    progress, draft = frida.predict("da", api_name="/guide_watch")
    assert "Pseudonymisering" in progress and "Færdig" in progress
    assert "Dobbeltkontrol af insulin ved vagtskifte" in draft and "[PERSON_1]" in draft and "Jens" not in draft


def _component(config: dict, elem_id: str) -> dict:
    return next(c["props"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id)


def _labels(config: dict) -> set[str]:
    return {str(c.get("props", {}).get("label")) for c in config["components"]}


@pytest.mark.parametrize(("language", "switch_label", "tab_label"),
                         [("en", "Language / Sprog", "Conversation guide"), ("da", "Sprog / Language", "Samtaleguide")])
def test_the_app_starts_in_the_configured_language(tmp_path, language, switch_label, tab_label):
    from ui.app import build_main
    from ui.context import AppContext
    from ui.public import build_public

    settings = Settings(data_dir=tmp_path / "data", cpu_threads=2, ui_language=language)
    runtime = Runtime.create(settings, Components(settings, transcriber_=FakeTranscriber(),
                                                  pseudonymiser_=FakePseudonymiser()))
    add_user(runtime.db, "adam", Role.admin, "korrekt-hest-batteri")
    ctx = AppContext(runtime)
    main = build_main(ctx).config
    switch = _component(main, "db-language")
    assert (switch["value"], switch["label"]) == (language, switch_label)
    assert tab_label in _labels(main)
    filters = "Filters" if language == "en" else "Filtre"  # an accordion a tab opened with Danish words
    assert filters in _labels(main)
    public = build_public(ctx).config
    assert (_component(public, "db-language")["value"], _component(public, "db-language")["label"]) == (
        language, switch_label)
