"""The open dashboard at ``/public/`` for citizens, without login: counts of public approved points by category,
sector and month with small counts withheld, each plot with its sentence and table, and the list of public points.
The app runs for real on loopback (real SQLite, real index); one short check in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.support.learning_cases import LabelChat, open_dashboard_points, store_approved
from tests.ui.test_ui_api import RunningApp, serve_app
from tests.ui.test_ui_browser import browser, page  # noqa: F401 - pytest fixtures


@pytest.fixture(scope="module")
def running_app(tmp_path_factory) -> Iterator[RunningApp]:
    with serve_app(tmp_path_factory.mktemp("ui-public-dashboard"), chat=LabelChat()) as app:
        public, staff = open_dashboard_points()
        store_approved(app.runtime.db, app.runtime.index, public + staff)
        app.public_titles = {r["title"] for r in public}
        app.staff_titles = {r["title"] for r in staff}
        yield app


def dashboard(app: RunningApp, language: str) -> dict:
    """What an anonymous reader's page shows, by part."""
    out = app.client().predict(language, api_name="/public_dashboard")
    names = ["total", "category_plot", "category", "sector_plot", "sector", "month_plot", "month", "points"]
    return dict(zip(names, out, strict=True))


def rows(table: dict) -> dict[str, str]:
    return {label: count for label, count in table["data"]}


def test_the_open_dashboard_answers_without_login_and_counts_only_public_points(running_app):
    shown = dashboard(running_app, "da")
    assert "**14** offentlige læringspunkter i alt" in shown["total"]
    assert rows(shown["category"]) == {"Medicin": "6", "Andre, samlet": "8"}
    assert rows(shown["sector"]) == {"Hospital": "6", "Andre, samlet": "8"}  # not 13 with the staff-only ones
    assert rows(shown["month"]) == {"2026-01": "6", "Andre, samlet": "8"}
    listed = {title for _reference, title in shown["points"]["data"]}
    assert listed == running_app.public_titles and not listed & running_app.staff_titles
    references = [reference for reference, _title in shown["points"]["data"]]
    assert all(reference.startswith("UTH-2026-") and "/" in reference for reference in references)


def test_no_small_count_reaches_the_page(running_app):
    shown = dashboard(running_app, "da")
    for part in ("category", "sector", "month"):
        assert all(int(count) >= 5 for count in rows(shown[part]).values())
    counts = str([shown[part] for part in shown if part != "points"])
    assert "Fald" not in counts  # the three public falls are inside "others", not a bar or a row of their own
    # Equipment has five, but shown beside medication it would leave 14 − 6 − 5 = 3: the falls.
    assert "Udstyr og IT" not in counts


def test_the_dashboard_speaks_english_after_the_switch(running_app):
    shown = dashboard(running_app, "en")
    assert "**14** public learning points in all" in shown["total"]
    assert shown["category"]["headers"] == ["Category", "Learning points"]
    assert rows(shown["category"]) == {"Medication": "6", "Others, combined": "8"}
    assert shown["points"]["headers"] == ["Reference", "Title"]


def test_a_citizen_reads_the_dashboard_and_switches_it_to_english(running_app, page, artifacts_dir):
    page.goto(running_app.url + "/public/")
    page.get_by_role("tab", name="Tal og tendenser").click()
    panel = page.locator("#db-public-dashboard")
    expect(panel).to_contain_text("Søjlerne viser, hvor mange offentlige læringspunkter der handler om hver slags")
    expect(page.locator("#db-public-table-category")).to_contain_text("Andre, samlet")
    expect(page.locator("#db-public-by-category").locator("canvas, svg.marks").first).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts_dir / "ui-da-public-dashboard.png", full_page=True)
    page.locator("#db-language input").click()
    page.get_by_role("option", name="English").click()
    page.get_by_role("tab", name="Figures and trends").click()
    expect(panel).to_contain_text("The bars show how many public learning points are about each kind of event")
    expect(page.locator("#db-public-table-category")).to_contain_text("Others, combined")
    expect(page.locator("#db-public-points")).to_contain_text("UTH-2026-")
