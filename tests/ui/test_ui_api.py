"""The web app through its API (gradio_client), as users in different roles would drive it.

The app runs for real on a free loopback port with its own data folder and in-process worker. Speech-to-text,
pseudonymisation and drafting use the small fakes (their real models have their own tests); the answers under
Ask come from the real embedded LLM.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from gradio.utils import get_upload_folder
from gradio_client import Client, handle_file

from assistant.auth import Role, add_user
from assistant.jobs import Components, Runtime, pipeline
from assistant.settings import Settings
from tests.support.fakes import FakePseudonymiser, FakeTranscriber, fake_draft
from tests.support.hardening_app import case_id_in
from tests.support.servers import app_in_thread

PASSWORD = "korrekt-hest-batteri"
USERS = {"rita": Role.reporter, "lars": Role.learning_agent, "sofie": Role.staff, "frida": Role.facilitator,
         "adam": Role.admin}


@dataclass
class RunningApp:
    url: str
    runtime: Runtime

    def client(self, user: str | None = None) -> Client:
        """A logged-in client for ``user``; without a user, an anonymous client of the open part."""
        if user is None:
            return Client(self.url + "/public/", verbose=False)
        return Client(self.url + "/", auth=(user, PASSWORD), verbose=False)


@contextmanager
def serve_app(data_dir: Path, chat=None) -> Iterator[RunningApp]:
    """Start the whole app (both Blocks, the worker) on a free port; stop it afterwards."""
    from ui.app import create_app

    settings = Settings(data_dir=data_dir, cpu_threads=2)
    components = Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(),
                            chat_=chat)
    runtime = Runtime.create(settings, components)
    for name, role in USERS.items():
        add_user(runtime.db, name, role, PASSWORD)
    runtime.start_worker()
    app, _ = create_app(runtime)
    try:
        with app_in_thread(app) as url:
            yield RunningApp(url=url, runtime=runtime)
    finally:
        runtime.stop()


@pytest.fixture(scope="module")
def running_app(tmp_path_factory) -> Iterator[RunningApp]:
    from assistant.llm import make_chat_model

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "draft_case", fake_draft)
        data_dir = tmp_path_factory.mktemp("ui-api")
        chat = make_chat_model(Settings(data_dir=data_dir, cpu_threads=2))
        with serve_app(data_dir, chat) as app:
            yield app


def submit_notes(client: Client, notes: str, **context) -> dict:
    """Hand in typed notes and wait for the draft; returns what the Debrief tab showed."""
    message, receipt = client.predict(
        "da", None, notes, context.get("sector", "hospital"), context.get("unit", "Akutmodtagelsen"),
        context.get("event_date", "2026-11-02"), context.get("event_type", "Medicinering"), False,
        api_name="/submit",
    )
    progress, draft = client.predict("da", api_name="/watch")
    return {"message": message, "receipt": receipt, "progress": progress, "draft": draft}


def chosen(update: dict | str) -> str:
    """The selected value of a dropdown an endpoint updated."""
    return update["value"] if isinstance(update, dict) else update


def open_case(agent: Client, case_id: str) -> str:
    """Open a case for review; returns its first learning point's id."""
    _html, points = agent.predict("da", case_id, api_name="/open_case")
    return chosen(points)


def message_text(message: dict) -> str:
    """A chat message's text (Gradio 6 sends content as a list of typed parts)."""
    content = message["content"]
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def case_of(app: RunningApp, shown: dict) -> str:
    """The id of the case the hand-in message names by its reference."""
    return case_id_in(app.runtime.db, shown["message"])


def case_reference_of(running_app, case_id: str) -> str:
    """The reference people read for a case ("UTH-2026-0001"), from the app's own store."""
    from assistant.store.tables import Case

    with running_app.runtime.db.session() as session:
        return session.get(Case, case_id).reference


def point_reference_of(running_app, point_id: str) -> str:
    """The reference people read for a point ("UTH-2026-0001/1"), from the app's own store."""
    from assistant.references import point_reference
    from assistant.store.tables import Case, LearningPoint

    with running_app.runtime.db.session() as session:
        point = session.get(LearningPoint, point_id)
        return point_reference(session.get(Case, point.case_id).reference, point.number)


def first_case_and_point(agent: Client) -> tuple[str, str]:
    """The oldest case in the review queue, opened: (case id, its first learning point's id)."""
    _queue, cases = agent.predict("da", [], "", "", "", "", api_name="/review_queue")
    case_id = chosen(cases)
    return case_id, open_case(agent, case_id)


@pytest.mark.real_llm
def test_typed_notes_are_drafted_approved_and_cited_when_staff_ask(running_app):
    reporter = running_app.client("rita")
    shown = submit_notes(reporter, "Jens fik dobbelt dosis insulin ved vagtskiftet.\n\nMette opdagede det ved "
                                   "dobbeltkontrollen, og vi talte åbent om det bagefter.")
    assert shown["receipt"] and "Færdig" in shown["progress"]
    assert "Dobbeltkontrol af insulin ved vagtskifte" in shown["draft"]
    assert "Jens" not in shown["draft"] and "[PERSON_1]" in shown["draft"]  # only pseudonymised text is shown

    agent = running_app.client("lars")
    case_id, point_id = first_case_and_point(agent)
    assert case_reference_of(running_app, case_id) in shown["message"] and case_id not in shown["message"]
    assert "godkendt" in agent.predict("da", point_id, "staff", "Godt fanget", api_name="/approve")

    staff = running_app.client("sofie")
    history, cited_case = staff.predict("da", "Har vi set fejl med insulin ved vagtskifte?", [], [], "", "", "", "",
                                        "all", api_name="/ask")[:2]
    answer = message_text(history[-1])
    assert chosen(cited_case) == case_id, answer
    visible = re.sub(r"\]\([^)]*\)", "]", answer)  # what a person reads: link targets left out
    assert f"[{point_reference_of(running_app, point_id)}]" in visible and point_id not in visible
    assert "kunne ikke formulere et svar" not in answer  # the model's own cited words, not the fallback list
    points = staff.predict("da", case_id, api_name="/cited_case")
    assert "Dobbeltkontrol af insulin ved vagtskifte" in points and "Jens" not in points
    assert "Tak" in staff.predict("da", "", api_name="/rate_helpful")[0]


def test_a_staff_user_cannot_approve_or_open_the_review_queue(running_app):
    reporter = running_app.client("rita")
    submit_notes(reporter, "Pumpen alarmerede, men alarmen blev overhørt i en travl vagt.")
    _case_id, point_id = first_case_and_point(running_app.client("lars"))

    staff = running_app.client("sofie")
    with pytest.raises(Exception, match="rolle"):
        staff.predict("da", point_id, "public", "", api_name="/approve")
    with pytest.raises(Exception, match="role"):
        staff.predict("en", [], "", "", "", "", api_name="/review_queue")


def test_the_reporter_follows_the_case_by_receipt_code_without_logging_in(running_app):
    shown = submit_notes(running_app.client("rita"), "Faldet på stuen blev opdaget hurtigt, fordi sengealarmen "
                                                     "var slået til.")
    anonymous = running_app.client()
    before = anonymous.predict("da", shown["receipt"], api_name="/status_by_receipt")
    assert "Venter på gennemgang" in before and "endnu ikke sendt" in before

    agent = running_app.client("lars")
    case_id = case_of(running_app, shown)
    point_id = open_case(agent, case_id)
    agent.predict("da", point_id, "staff", "", api_name="/approve")
    agent.predict("da", case_id, "Tak for en god debriefing. I har hjulpet andre afdelinger.",
                  api_name="/release_feedback")

    after = anonymous.predict("en", shown["receipt"], api_name="/status_by_receipt")
    assert "Tak for en god debriefing" in after and "Reviewed" in after
    with pytest.raises(Exception, match="findes ikke"):
        anonymous.predict("da", "FORKERT-KODE-123", api_name="/status_by_receipt")


@pytest.mark.real_llm
def test_an_uploaded_recording_is_drafted_approved_and_cited_when_staff_ask(running_app, tmp_path):
    from tests.support.audio_factory import speak

    name = f"debrief-{uuid.uuid4().hex}.wav"
    recording = speak("The patient received a double dose of insulin at the shift change.", tmp_path / name)
    reporter = running_app.client("rita")
    message, receipt = reporter.predict("da", handle_file(str(recording)), "", "hospital", "Medicinsk afdeling",
                                        "", "", True, api_name="/submit")
    assert receipt
    assert not list(Path(get_upload_folder()).rglob(name))  # Gradio's upload copy is gone at once
    progress, draft = reporter.predict("da", api_name="/watch")
    assert "Transskription" in progress and "Færdig" in progress
    assert "Dobbeltkontrol af insulin ved vagtskifte" in draft

    agent = running_app.client("lars")
    case_id = case_of(running_app, {"message": message})
    point_id = open_case(agent, case_id)
    assert "godkendt" in agent.predict("da", point_id, "staff", "", api_name="/approve")
    staff = running_app.client("sofie")
    history, cited_case = staff.predict("da", "Har andre oplevet fejl med insulin ved vagtskiftet?", [], [],
                                        "Medicinsk afdeling", "", "", "", "all", api_name="/ask")[:2]
    answer = message_text(history[-1])
    assert chosen(cited_case) == case_id and f"[{point_reference_of(running_app, point_id)}]" in answer, answer
    assert "kunne ikke formulere et svar" not in answer

    with pytest.raises(Exception, match="not both"):
        reporter.predict("en", handle_file(str(recording)), "Også noter", "hospital", "", "", "", False,
                         api_name="/submit")

    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("dette er ikke lyd")
    with pytest.raises(Exception, match="Intet er gemt"):
        reporter.predict("da", handle_file(str(not_audio)), "", "hospital", "", "", "", False, api_name="/submit")


def test_text_from_people_is_shown_escaped_never_as_html(running_app):
    shown = submit_notes(running_app.client("rita"), 'Vi så <img src=x onerror="alert(1)"> i journalen.')
    assert "&lt;img src=x" in shown["draft"]
    assert "<img" not in shown["draft"]


def test_anonymous_readers_find_only_public_learning_points(running_app):
    reporter, agent = running_app.client("rita"), running_app.client("lars")
    public_case = submit_notes(reporter, "Sondemad blev givet i den forkerte sonde; kollegaen stoppede det i tide.")
    staff_case = submit_notes(reporter, "Sondemad i forkert sonde blev opdaget ved tjek af sondens placering.")
    for shown, visibility in ((public_case, "public"), (staff_case, "staff")):
        point_id = open_case(agent, case_of(running_app, shown))
        agent.predict("da", point_id, visibility, "", api_name="/approve")

    found = running_app.client().predict("da", "sondemad i forkert sonde", api_name="/search_public")
    assert "Sondemad blev givet i den forkerte sonde" in found
    assert "opdaget ved tjek af sondens placering" not in found


def test_the_overview_counts_cases_and_decisions_for_learning_agents(running_app):
    submit_notes(running_app.client("rita"), "Overlevering mellem kommune og hospital manglede medicinlisten.",
                 sector="municipality")
    summary, by_category, by_sector, by_month = running_app.client("lars").predict("da", "", "",
                                                                                  api_name="/overview")
    assert "sager" in summary and "mediantid" in summary
    assert "Kommune" in str(by_sector)
    with pytest.raises(Exception, match="rolle"):
        running_app.client("sofie").predict("da", "", "", api_name="/overview")


def test_repeated_wrong_passwords_lock_the_name_for_a_while(running_app):
    from ui.context import LOGIN_FAILURES_ALLOWED, AppContext

    context = AppContext(running_app.runtime)
    assert context.login("sofie", PASSWORD)
    for _ in range(LOGIN_FAILURES_ALLOWED):
        assert not context.login("sofie", "forkert-kodeord")
    assert not context.login("sofie", PASSWORD)  # locked, even with the right password
    assert context.login("lars", PASSWORD)  # other names are not affected


def test_the_logged_in_app_refuses_anonymous_callers(running_app):
    import httpx

    with pytest.raises(Exception):
        Client(running_app.url + "/", verbose=False)
    joined = httpx.post(running_app.url + "/gradio_api/queue/join",
                        json={"data": ["da"], "fn_index": 0, "session_hash": "anonymous1"})
    assert joined.status_code in (401, 403)
