""""Fortæl om en hændelse" on the open page at ``/public/``, without login, through its API (gradio_client): a
relative hands in an account and gets a receipt, limits refuse in plain words, and a learning agent reads the
account beside the team's debrief in Review. The app runs for real on loopback (real SQLite, its own worker);
pseudonymisation and drafting are the small fakes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from gradio_client import handle_file
from sqlalchemy import func, select

from assistant.cases import receipt_hash
from assistant.store.tables import Case
from assistant.jobs import pipeline
from tests.support import audio_factory
from tests.support.fakes import FakeChat, fake_draft
from tests.ui.test_ui_api import RunningApp, serve_app, submit_notes

ACCOUNT = "Min far Jens fik insulin to gange om natten.\n\nIngen sagde noget til os før om morgenen."
PER_CLIENT = 4


@pytest.fixture(scope="module")
def running_app(tmp_path_factory) -> Iterator[RunningApp]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "draft_case", fake_draft)
        patch.setenv("DEBRIEF_PUBLIC_REPORTS_PER_CLIENT_PER_HOUR", str(PER_CLIENT))
        patch.setenv("DEBRIEF_PUBLIC_REPORT_MAX_CHARS", "400")
        patch.setenv("DEBRIEF_PUBLIC_REPORT_AUDIO", "true")
        patch.setenv("DEBRIEF_PUBLIC_REPORT_MAX_UPLOAD_BYTES", "20000")
        with serve_app(tmp_path_factory.mktemp("ui-public-report"), chat=FakeChat()) as app:
            yield app


def report(app: RunningApp, text: str | None, *, language="da", who="relative", recording=None, consent=True):
    """What the open page shows after "Send": the message and the receipt code."""
    return app.client().predict(language, who, text, recording, consent, api_name="/report_event")


def case_of(app: RunningApp, receipt: str) -> Case:
    with app.runtime.db.session() as session:
        return session.scalar(select(Case).where(Case.receipt_hash == receipt_hash(receipt)))


def case_count(app: RunningApp) -> int:
    with app.runtime.db.session() as session:
        return session.scalar(select(func.count()).select_from(Case))


def transcript_of(app: RunningApp, case_id: str, timeout: float = 30.0) -> list[str]:
    """The stored (pseudonymised) text of a case, once the worker has got that far."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.runtime.db.session() as session:
            case = session.get(Case, case_id)
            if case.transcript is not None and case.drafts:
                return [s.text for s in case.transcript.segments]
        time.sleep(0.2)
    raise AssertionError("the worker did not process the account")


def test_a_relative_hands_in_an_account_without_login_and_gets_a_receipt(running_app):
    message, receipt = report(running_app, ACCOUNT)

    assert "Tak. Vi har modtaget din fortælling" in message
    assert len(receipt.replace("-", "")) == 26
    case = case_of(running_app, receipt)
    assert case.reporter_type == "relative" and case.reporter_id is None
    stored = transcript_of(running_app, case.id)
    assert stored[0] == "Min far [PERSON_1] fik insulin to gange om natten."
    assert "Jens" not in " ".join(stored)


def test_too_long_text_is_refused_in_danish_or_english_and_nothing_is_stored(running_app):
    before = case_count(running_app)

    with pytest.raises(Exception, match="Teksten er for lang"):
        report(running_app, "lang fortælling " * 40)
    with pytest.raises(Exception, match="The text is too long"):
        report(running_app, "long account " * 40, language="en")

    assert case_count(running_app) == before


def test_too_large_recording_is_refused_and_nothing_is_stored(running_app, tmp_path):
    before = case_count(running_app)
    recording = audio_factory.tone(tmp_path / "optagelse.wav", seconds=2)  # 64 kB, over the 20 kB set here

    # The open page's upload route takes nothing larger than the report's own limit (the library checks again).
    with pytest.raises(Exception, match="exceeds the maximum file size of 20000 bytes"):
        report(running_app, None, who="patient", recording=handle_file(str(recording)))

    assert case_count(running_app) == before


def test_a_learning_agent_links_the_account_and_review_shows_both(running_app):
    agent = running_app.client("lars")
    debrief = submit_notes(running_app.client("rita"), "Mette gav insulin to gange ved vagtskiftet.")
    with running_app.runtime.db.session() as session:
        staff = session.scalar(select(Case).where(Case.reporter_type == "staff")).id
        account = session.scalar(select(Case).where(Case.reporter_type == "relative").order_by(Case.created_at)).id
    assert debrief["receipt"]

    with pytest.raises(Exception, match="rolle"):
        running_app.client("sofie").predict("da", staff, account, api_name="/link_account")
    message, shown = agent.predict("da", staff, account, api_name="/link_account")

    assert "Sagerne er knyttet sammen" in message
    assert "Personalets debriefing" in shown and "Fra patient/pårørende" in shown
    assert "[PERSON_1] gav insulin to gange ved vagtskiftet." in shown
    assert "Min far [PERSON_1] fik insulin to gange om natten." in shown
    case_html, points = agent.predict("da", account, api_name="/open_case")
    assert "Fra patient/pårørende" in case_html
    assert "Fra patient/pårørende" in str(points)


def test_a_patient_speaks_an_account_into_the_open_page(running_app, tmp_path):
    recording = audio_factory.tone(tmp_path / "kort.wav", seconds=1.2, rate=8000)  # 19 kB, under the limit

    message, receipt = running_app.client().predict("en", "patient", "", handle_file(str(recording)), True,
                                                    api_name="/report_event")

    assert "Thank you. We have received your account" in message
    case = case_of(running_app, receipt)
    assert (case.reporter_type, case.source_kind) == ("patient", "audio")


def test_one_client_is_refused_after_its_hourly_limit(running_app):
    # Last in this module: it uses up the hour of the one client (loopback) every test here hands in from.
    refusal = None
    for number in range(PER_CLIENT + 1):
        try:
            report(running_app, f"Fortælling nummer {number}: medicinen kom for sent.", language="en")
        except Exception as error:  # noqa: BLE001 - the refusal is what we look for
            refusal = str(error)
            break

    assert refusal is not None and "You have sent many accounts in a short time" in refusal
