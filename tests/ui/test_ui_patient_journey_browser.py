"""A relative's account from hand-in to feedback, through the real app in headless Chromium: the relative tells
on the open page and gets a receipt code, a learning agent links the account to the team's debrief of the same
event and writes to the relative, the relative answers by receipt code, and the agent approves a point and
releases feedback that the relative then reads. Real SQLite, index and job worker; fakes for speech, names and
drafting. Screenshots of each step land in ``test-artifacts/``."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from assistant.intake import submit_notes
from assistant.models import CaseContext, Sector
from assistant.store.tables import Case, User
from tests.support.hardening_app import RunningApp, serve_app
from tests.ui.test_ui_browser import browser, log_in, open_tab, page  # noqa: F401 - pytest fixtures

STAFF_NOTES = ("Mette gav insulin to gange ved vagtskiftet; dosis stod ikke i overleveringen.\n\n"
               "Vi har aftalt dobbeltkontrol ved vagtskifte.")
ACCOUNT = ("Min far Jens fik insulin to gange om natten. <script>alert(1)</script>\n\n"
           "Ingen sagde noget til os før om morgenen.")
QUESTION = "Tak for din fortælling. Hvornår opdagede I, at noget var galt?"
ANSWER = "Klokken seks om morgenen, da han var meget træt."
FEEDBACK = "Tak. Afdelingen indfører dobbeltkontrol af insulin ved vagtskifte."


@pytest.fixture(scope="module")
def running_app(tmp_path_factory) -> Iterator[RunningApp]:
    with serve_app(tmp_path_factory.mktemp("ui-patient-journey")) as app:
        yield app


@pytest.fixture(scope="module")
def staff_case(running_app) -> dict:
    """The team's debrief of the same event, handed in through the library and drafted by the app's worker."""
    db = running_app.runtime.db
    with db.session() as session:
        rita = session.scalar(select(User.id).where(User.name == "rita"))
    submission = submit_notes(db, running_app.runtime.settings, STAFF_NOTES,
                              CaseContext(sector=Sector.hospital, unit="Medicinsk afsnit"), reporter_id=rita)
    running_app.context.wake_worker()
    drafted(running_app, submission.case_id)
    return {"case_id": submission.case_id, "reference": submission.reference}


@pytest.fixture
def relative(browser: Browser) -> Iterator[Page]:  # noqa: F811 - the fixture imported above
    """The relative's own browser, apart from the learning agent's login."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="da-DK")
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def drafted(app: RunningApp, case_id: str, timeout: float = 60.0) -> None:
    """Wait until the worker has drafted the case (the fake drafting is instant; the worker polls)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.runtime.db.session() as session:
            if session.get(Case, case_id).drafts:
                return
        time.sleep(0.2)
    raise AssertionError(f"the worker did not draft case {case_id}")


def account_case(app: RunningApp) -> Case:
    with app.runtime.db.session() as session:
        return session.scalar(select(Case).where(Case.reporter_type == "relative"))


def look_up_status(page: Page, app: RunningApp, receipt: str) -> None:
    page.goto(app.url + "/public/")
    page.get_by_role("tab", name="Status").click()
    page.get_by_label("Kvitteringskode").fill(receipt)
    page.get_by_role("button", name="Vis status").click()


def test_a_relatives_account_goes_from_the_open_page_to_released_feedback(running_app, staff_case, page, relative,
                                                                          artifacts_dir):
    # 1. The relative tells what happened on the open page, without login, and gets a receipt code.
    relative.goto(running_app.url + "/public/")
    relative.get_by_role("tab", name="Fortæl om en hændelse").click()
    relative.get_by_label("Jeg er pårørende").check()
    relative.locator("#db-report-text textarea").fill(ACCOUNT)
    relative.get_by_label("Jeg har læst teksten og vil gerne dele min fortælling.").check()
    relative.screenshot(path=artifacts_dir / "ui-da-journey-1-report.png", full_page=True)
    relative.get_by_role("button", name="Send", exact=True).click()
    expect(relative.locator("#db-public-report")).to_contain_text("Tak. Vi har modtaget din fortælling")
    receipt_box = relative.locator("#db-report-receipt textarea, #db-report-receipt input").first
    expect(receipt_box).to_have_value(re.compile(r"^[A-Z0-9]{5}(-[A-Z0-9]{1,5}){5}$"))
    receipt = receipt_box.input_value()
    relative.screenshot(path=artifacts_dir / "ui-da-journey-2-receipt.png", full_page=True)
    account = account_case(running_app)
    drafted(running_app, account.id)

    # 2. The learning agent opens the account in Review and links it to the team's debrief.
    log_in(page, running_app, "lars")
    open_tab(page, "Gennemgang")
    review = page.locator("#tab-review")
    review.get_by_role("button", name="Hent kø").click()
    expect(review).to_contain_text(account.reference)
    review.get_by_label("Sag", exact=True).click()
    page.get_by_role("option").filter(has_text=account.reference).filter(has_text="Fra patient/pårørende").click()
    review.get_by_role("button", name="Åbn sag").click()
    case_view = review.locator("#db-review-case")
    expect(case_view).to_contain_text("Fra patient/pårørende")
    expect(case_view).to_contain_text("<script>alert(1)</script>")  # the account's markup is shown as text
    expect(case_view).not_to_contain_text("Jens")  # pseudonymised before anyone reads it
    review.get_by_label("Knyt til sag (reference eller id").fill(staff_case["reference"])
    review.get_by_role("button", name="Knyt sammen").click()
    expect(review).to_contain_text("Sagerne er knyttet sammen.")
    linked = review.locator("#db-review-linked")
    expect(linked).to_contain_text("Personalets debriefing")
    expect(linked).to_contain_text("[PERSON_1] gav insulin to gange ved vagtskiftet")
    expect(linked).to_contain_text("Min far [PERSON_1] fik insulin to gange om natten.")
    page.screenshot(path=artifacts_dir / "ui-da-journey-3-linked.png", full_page=True)

    # 3. The agent writes to the relative.
    review.get_by_role("button", name="Beskeder med indberetteren").click()
    review.get_by_label("Skriv til indberetteren").fill(QUESTION)
    review.get_by_role("button", name="Send til indberetteren").click()
    expect(review).to_contain_text("Beskeden er sendt. Indberetteren ser den på statussiden.")
    expect(review.locator("#db-review-thread")).to_contain_text(QUESTION)

    # 4. The relative reads the message by receipt code and answers.
    look_up_status(relative, running_app, receipt)
    expect(relative.locator(".db-thread")).to_contain_text(QUESTION)
    relative.get_by_label("Skriv til læringsagenten").fill(ANSWER)
    relative.get_by_role("button", name="Send besked").click()
    expect(relative.locator(".db-thread .db-message-reporter")).to_contain_text(ANSWER)
    relative.screenshot(path=artifacts_dir / "ui-da-journey-4-answer.png", full_page=True)

    # 5. The agent sees the answer, approves the point and releases feedback.
    review.get_by_role("button", name="Vis beskeder").click()
    expect(review.locator("#db-review-thread")).to_contain_text(ANSWER)
    review.get_by_role("button", name="Godkend").click()
    expect(review).to_contain_text("Læringspunktet er godkendt")
    review.get_by_role("button", name="Tilbagemelding til indberetter").click()
    review.get_by_label("Tilbagemelding", exact=True).fill(FEEDBACK)
    review.get_by_role("button", name="Send til indberetter", exact=True).click()
    expect(review).to_contain_text("Tilbagemeldingen er sendt til indberetteren.")
    page.screenshot(path=artifacts_dir / "ui-da-journey-5-feedback-released.png", full_page=True)

    # 6. The relative reads the feedback on the status page.
    look_up_status(relative, running_app, receipt)
    result = relative.locator(".db-status")
    expect(result).to_contain_text("Tilbagemelding fra læringsagenten")
    expect(result.locator(".db-feedback")).to_have_text(FEEDBACK)
    expect(result).to_contain_text("Dobbeltkontrol af insulin ved vagtskifte")  # the approved point
    expect(result).to_contain_text("<script>alert(1)</script>")  # the account's markup, still only text
    expect(relative.locator(".db-thread")).to_contain_text(ANSWER)
    relative.screenshot(path=artifacts_dir / "ui-da-journey-6-feedback-read.png", full_page=True)
