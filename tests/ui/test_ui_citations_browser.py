"""Clicking citations in a real headless browser: evidence in Review jumps to its transcript line and plays the
kept recording; a cited point in an Ask answer opens that case's approved learning points.

Screenshots land in ``test-artifacts/``. Chromium comes from Debian, as in test_ui_browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from assistant.jobs import pipeline
from tests.support.fakes import fake_draft
from tests.ui.test_ui_api import RunningApp, case_reference_of, open_case, point_reference_of, serve_app
from tests.ui.test_ui_browser import browser, log_in, open_tab, page  # noqa: F401 - pytest fixtures
from tests.ui.test_ui_citations import HOSTILE_ANSWER, QUESTION, ScriptedChat, submit_recording


@pytest.fixture(scope="module")
def running_app(tmp_path_factory) -> Iterator[RunningApp]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "draft_case", fake_draft)
        with serve_app(tmp_path_factory.mktemp("ui-citations-browser"), ScriptedChat(HOSTILE_ANSWER)) as app:
            yield app


def test_clicking_evidence_marks_its_line_and_plays_the_recording_then_ask_opens_a_cited_case(
        running_app, page, artifacts_dir, tmp_path):
    case_id = submit_recording(running_app, running_app.client("rita"), tmp_path,
                               "The patient received a double dose of insulin at the shift change.", keep_audio=True)
    log_in(page, running_app, "lars")
    open_tab(page, "Gennemgang")
    review = page.locator("#tab-review")
    review.get_by_role("button", name="Hent kø").click()
    expect(review).to_contain_text(case_reference_of(running_app, case_id))
    review.get_by_role("button", name="Åbn sag").click()
    evidence = review.locator("a.db-cite").first
    expect(evidence).to_be_visible()
    evidence.click()
    expect(review.locator("#seg-0")).to_have_class(re.compile(r"\bdb-cited-line\b"))
    player = page.locator("#db-evidence-audio [data-testid^='waveform-'] audio")
    expect(player).to_have_attribute("src", re.compile(r"^blob:"), timeout=30_000)
    seconds = player.evaluate("a => new Promise(done => a.readyState >= 1 ? done(a.duration) : "
                              "a.addEventListener('loadedmetadata', () => done(a.duration)))")
    assert seconds == pytest.approx(3.0, abs=0.1)  # segment 0 (0–2 s) and a second after it
    page.screenshot(path=artifacts_dir / "ui-da-review-evidence-clip.png", full_page=True)

    point_id = open_case(running_app.client("lars"), case_id)
    running_app.client("lars").predict("da", point_id, "staff", "", api_name="/approve")
    open_tab(page, "Spørg")
    ask = page.locator("#tab-ask")
    ask.get_by_label("Dit spørgsmål").fill(QUESTION)
    ask.get_by_role("button", name="Spørg", exact=True).click()
    link = ask.locator(f'a[href="#cite-{case_id}-{point_id}"]')
    expect(link).to_be_visible(timeout=60_000)
    expect(ask.locator("#db-ask-chat")).to_contain_text("<script>alert(1)</script>")  # text, not markup
    expect(ask.locator("#db-ask-chat a[href^='http']")).to_have_count(0)
    link.click()
    # The link's own handler marks the point it cited (the sources dropdown alone shows the case unmarked).
    opened = page.locator("#db-ask-cited .db-point-cited")
    expect(opened).to_contain_text("Dobbeltkontrol af insulin ved vagtskifte")
    expect(opened).to_contain_text(point_reference_of(running_app, point_id))
    page.screenshot(path=artifacts_dir / "ui-da-ask-cited-link.png", full_page=True)
