"""The web app in a real headless browser: every tab loads, labels are Danish by default and switch to English.

Screenshots land in ``test-artifacts/`` for people to look at. Chromium comes from Debian (``apt-get install
chromium``), driven by Playwright for Python without its own browser download.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from assistant.jobs import pipeline
from tests.support.fakes import fake_draft
from tests.ui.test_ui_api import PASSWORD, RunningApp, serve_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TABS_DA = {"debrief": "Debriefing", "guide": "Samtaleguide", "review": "Gennemgang", "ask": "Spørg",
           "overview": "Overblik", "status": "Status"}
TABS_EN = {"debrief": "Debrief", "guide": "Conversation guide", "review": "Review", "ask": "Ask",
           "overview": "Overview", "status": "Status"}


@pytest.fixture(scope="module")
def running_app(tmp_path_factory) -> Iterator[RunningApp]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "draft_case", fake_draft)
        with serve_app(tmp_path_factory.mktemp("ui-browser")) as app:
            yield app


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "install Chromium: apt-get install -y chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="da-DK")
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def log_in(page: Page, app: RunningApp, user: str, artifacts: Path | None = None) -> None:
    page.goto(app.url + "/")
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(PASSWORD)
    if artifacts:
        page.screenshot(path=artifacts / "ui-login.png")
    page.get_by_role("button", name="Login").click()
    expect(page.locator("#db-who")).to_contain_text(user)


def open_tab(page: Page, label: str) -> None:
    page.get_by_role("tab", name=label, exact=True).click()


def test_every_tab_loads_with_danish_labels(running_app, page, artifacts_dir):
    log_in(page, running_app, "adam", artifacts_dir)
    expect(page.locator("#db-who")).to_contain_text("administrator")
    for name, label in TABS_DA.items():
        open_tab(page, label)
        panel = page.locator(f"#tab-{name}")
        expect(panel).to_be_visible()
        page.screenshot(path=artifacts_dir / f"ui-da-{name}.png", full_page=True)
    open_tab(page, "Debriefing")
    expect(page.get_by_role("button", name="Send til behandling")).to_be_visible()
    expect(page.get_by_label("Afdeling / enhed").first).to_be_visible()


def test_the_language_switch_turns_labels_english(running_app, page, artifacts_dir):
    log_in(page, running_app, "adam")
    page.locator("#db-language input").click()
    page.get_by_role("option", name="English").click()
    expect(page.get_by_role("tab", name="Conversation guide")).to_be_visible()
    expect(page.get_by_role("button", name="Submit for processing")).to_be_visible()
    expect(page.locator("#db-who")).to_contain_text("Logged in as adam")
    for name, label in TABS_EN.items():
        open_tab(page, label)
        page.screenshot(path=artifacts_dir / f"ui-en-{name}.png", full_page=True)


def test_typed_notes_show_progress_receipt_and_draft(running_app, page, artifacts_dir):
    log_in(page, running_app, "rita")
    # A reporter sees where to hand in and follow up, not the reviewers' tabs.
    expect(page.get_by_role("tab", name="Gennemgang")).to_have_count(0)
    page.get_by_label("Eller skriv noter").fill("Mette opdagede en forveksling af <b>to</b> infusionspumper.\n\n"
                                              "Vi stoppede pumpen og tjekkede ordinationen sammen.")
    page.get_by_role("button", name="Send til behandling").click()
    expect(page.locator("#tab-debrief")).to_contain_text("Dobbeltkontrol af insulin ved vagtskifte", timeout=60_000)
    expect(page.locator("#tab-debrief")).to_contain_text("<b>to</b>")  # shown as text, not as markup
    receipt = page.locator("#db-receipt textarea, #db-receipt input").first
    expect(receipt).to_have_value(re.compile(r"^[A-Z0-9-]{10,}$"))
    page.screenshot(path=artifacts_dir / "ui-da-debrief-draft.png", full_page=True)


def test_the_open_part_needs_no_login(running_app, page, artifacts_dir):
    page.goto(running_app.url + "/public/")
    expect(page.get_by_role("tab", name="Læringspunkter")).to_be_visible()
    page.get_by_role("tab", name="Status").click()
    expect(page.get_by_role("button", name="Vis status")).to_be_visible()
    page.screenshot(path=artifacts_dir / "ui-public.png", full_page=True)


def test_a_learning_agent_approves_in_review_and_sees_the_overview(running_app, page, artifacts_dir):
    from tests.ui.test_ui_api import submit_notes

    submit_notes(running_app.client("rita"), "Ved overlevering til hjemmeplejen manglede den opdaterede medicinliste;"
                                             " sygeplejersken ringede og fik den.")
    log_in(page, running_app, "lars")
    open_tab(page, "Gennemgang")
    review = page.locator("#tab-review")
    review.get_by_role("button", name="Hent kø").click()
    expect(review).to_contain_text("Venter på gennemgang")
    review.get_by_role("button", name="Åbn sag").click()
    expect(review).to_contain_text("Dobbeltkontrol af insulin ved vagtskifte")
    expect(review).to_contain_text("Belæg i samtalen")
    review.get_by_role("button", name="Godkend").click()
    expect(review).to_contain_text("Læringspunktet er godkendt")
    page.screenshot(path=artifacts_dir / "ui-da-review-case.png", full_page=True)

    open_tab(page, "Overblik")
    overview = page.locator("#tab-overview")
    overview.get_by_role("button", name="Vis overblik").click()
    expect(overview).to_contain_text("mediantid til beslutning")
    page.wait_for_timeout(1500)  # let the plots draw before the screenshot
    page.screenshot(path=artifacts_dir / "ui-da-overview-data.png", full_page=True)


def test_a_facilitator_steps_through_a_guide_and_hands_in_the_notes(running_app, page, artifacts_dir):
    log_in(page, running_app, "frida")
    open_tab(page, "Samtaleguide")
    guide = page.locator("#tab-guide")
    guide.get_by_role("button", name="Start samtalen").click()
    expect(guide).to_contain_text("1/")
    expect(guide).to_contain_text("Spørgsmål")
    guide.get_by_label("Noter fra denne fase (ingen navne)").fill("Aftenvagt på medicinsk afsnit, fire sygeplejersker.")
    guide.get_by_role("button", name="Næste fase ▶").click()
    expect(guide).to_contain_text("2/")
    guide.get_by_label("Noter fra denne fase (ingen navne)").fill("En patient fik den forkerte dosis, det blev opdaget "
                                                                "ved dobbeltkontrol.")
    page.screenshot(path=artifacts_dir / "ui-da-guide-phase.png", full_page=True)
    guide.get_by_role("button", name="Afslut og send noterne").click()
    receipt = page.locator("#db-guide-receipt textarea, #db-guide-receipt input").first
    expect(receipt).to_have_value(re.compile(r"^[A-Z0-9-]{10,}$"))
