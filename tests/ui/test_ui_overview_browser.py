"""The Overview tab with a year of approved learning points, driven in headless Chromium: trend plots, themes
across sectors, the monthly report download and the action follow-up. Screenshots go to ``test-artifacts/``.
Theme headings come from a small fake chat model (the real one has its own test in test_patterns.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from assistant.learning import ActionPlan, track_action
from tests.support.learning_cases import AGENT, LabelChat, decided_on, store_approved, store_point, synthetic_points
from tests.ui.test_ui_api import RunningApp, serve_app
from tests.ui.test_ui_browser import browser, log_in, open_tab, page  # noqa: F401 - pytest fixtures
from ui.overview_tab import this_month


@pytest.fixture(scope="module")
def running_app(tmp_path_factory) -> Iterator[RunningApp]:
    with serve_app(tmp_path_factory.mktemp("ui-overview"), chat=LabelChat()) as app:
        db, index = app.runtime.db, app.runtime.index
        rows = synthetic_points()
        ids = store_approved(db, index, rows)
        for row in rows:
            day = dt.datetime.fromisoformat(row["event_date"]) + dt.timedelta(hours=9)
            decided_on(db, ids[row["id"]], day + dt.timedelta(days=4), drafted=day + dt.timedelta(days=1))
        for row in rows[:3]:
            store_point(db, row)  # still awaiting a decision
        track_action(db, AGENT, ids["syn-013"], action_index=0,
                     plan=ActionPlan(owner_role="Afdelingssygeplejerske", due_date=dt.date(2026, 12, 15)))
        yield app


def plot_drawn(page: Page, elem_id: str) -> None:
    """A Gradio plot has drawn its marks (Vega renders them into a canvas or an SVG)."""
    expect(page.locator(f"#{elem_id}").locator("canvas, svg.marks").first).to_be_visible(timeout=30_000)


def test_the_overview_plots_trends_and_themes_across_sectors(running_app, page, artifacts_dir):
    log_in(page, running_app, "lars")
    open_tab(page, "Overblik")
    overview = page.locator("#tab-overview")
    overview.get_by_role("button", name="Vis overblik").click()
    expect(overview).to_contain_text("mediantid til beslutning")
    for elem_id in ("db-by-outcome", "db-by-unit", "db-backlog", "db-decision-days"):
        plot_drawn(page, elem_id)
    expect(page.locator("#db-by-outcome")).to_contain_text("Gik godt (Safety-II)")
    overview.get_by_label("Foreslå overskrifter med AI (langsommere)").first.check()  # off by default: slow
    overview.get_by_role("button", name="Find temaer").click()
    themes = page.locator("#db-themes")
    expect(themes).to_contain_text("Tema: ", timeout=60_000)
    expect(themes).to_contain_text("På tværs af sektorer")
    plot_drawn(page, "db-themes-by-month")
    plot_drawn(page, "db-themes-by-sector")
    page.wait_for_timeout(1500)  # let the plots finish drawing before the screenshot
    page.screenshot(path=artifacts_dir / "ui-da-overview-learning.png", full_page=True)


def test_a_learning_agent_downloads_the_monthly_report_and_sees_the_actions(running_app, page, artifacts_dir):
    log_in(page, running_app, "lars")
    open_tab(page, "Overblik")
    overview = page.locator("#tab-overview")
    overview.get_by_text("Månedsrapport", exact=True).click()
    month = overview.get_by_label("Måned (ÅÅÅÅ-MM)")
    # The accordion mounts its fields as it opens: a value typed before that is replaced by the default
    # (this month), so wait for the default to show, then type and check the typed month stuck.
    expect(month).to_have_value(this_month())
    month.fill("2026-11")
    page.wait_for_timeout(300)
    expect(month).to_have_value("2026-11")
    overview.get_by_role("button", name="Lav månedsrapport").click()
    report_file = page.locator("#db-report-file")
    expect(report_file).to_contain_text("debrief-report-2026-11", timeout=60_000)
    expect(report_file).to_contain_text(".pdf")
    expect(page.locator("#db-report-preview")).to_contain_text("Måneden i tal")
    overview.get_by_text("Opfølgning på handlinger", exact=True).click()
    overview.get_by_role("button", name="Vis handlinger").click()
    expect(page.locator("#db-actions")).to_contain_text("Afstem medicinkortet (FMK) før udskrivelse")
    page.screenshot(path=artifacts_dir / "ui-da-overview-report-actions.png", full_page=True)


def test_staff_cannot_find_themes_or_make_reports_through_the_api(running_app):
    staff = running_app.client("sofie")
    with pytest.raises(Exception, match="rolle"):
        staff.predict("da", "", "", False, api_name="/patterns")
    with pytest.raises(Exception, match="rolle"):
        staff.predict("da", "2026-11", "md", "staff", False, api_name="/report")
    agent = running_app.client("lars")
    themes, _, _ = agent.predict("da", "", "", False, api_name="/patterns")
    assert "Tema" not in themes and "overskrift fra nøgleord" in themes  # without AI: keyword headings
