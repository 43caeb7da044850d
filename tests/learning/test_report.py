"""The monthly learning report from a real store and index: only approved points, counts that match the store,
no pseudonym map and no CPR/phone/e-mail, in Markdown, HTML and a PDF whose first page is saved as PNG."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import numpy as np
import pypdfium2 as pdfium
import pytest
from sqlalchemy import event, func, select
from typer.testing import CliRunner

from assistant.errors import InvalidInput
from assistant.learning import (
    ActionPlan,
    ActionStatus,
    IndexVectors,
    build_report,
    render,
    render_html,
    render_markdown,
    safety_scan,
    track_action,
    update_action,
)
from assistant.privacy import find_cpr_numbers
from assistant.settings import Settings, get_settings
from assistant.store import open_database
from assistant.store.tables import ActionFollowUp, Case, LearningPoint, PseudonymEntry
from tests.support.learning_cases import (
    AGENT,
    GarbleChat,
    LabelChat,
    decided_on,
    store_approved,
    store_point,
    store_rejected,
    synthetic_points,
)
from vectorstore.index import LearningIndex

MONTH = "2026-11"
FIRST, LAST = dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 30, 23, 59, 59)
MAP_ORIGINAL = "Henriette Kjærgaard-Olesen"
REJECTED_TEXT = "Afvist-punkt-som-aldrig-må-deles"
DRAFT_TEXT = "Udkast-som-endnu-ikke-er-godkendt"
CPR, PHONE, EMAIL = "010203-1234", "+45 22 33 44 55", "vagt.m2@region.example.dk"
EMAIL_SHAPE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The synthetic year (decisions five days after each event), plus what must never reach a report."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("report") / "data", cpu_threads=2)
    db, index = open_database(settings), LearningIndex(settings)
    rows = synthetic_points()
    ids = store_approved(db, index, rows)
    for row in rows:
        event_day = dt.datetime.fromisoformat(row["event_date"]) + dt.timedelta(hours=9)
        decided_on(db, ids[row["id"]], event_day + dt.timedelta(days=5), drafted=event_day + dt.timedelta(days=1))
    # A Safety-II point approved this month whose text still holds a CPR number, a phone number and an e-mail.
    leaky = {**rows[70], "id": "leaky", "title": "Sårsygeplejerske ringede tilbage samme dag",
             "what_happened": f"Borger (CPR {CPR}) fik hjælp samme dag; sårsygeplejersken kan nås på {PHONE} "
                              f"eller {EMAIL}.", "safety_ii": True, "event_date": "2026-11-10"}
    ids.update(store_approved(db, index, [leaky], decided=dt.datetime(2026, 11, 12, 10)))
    rejected = store_rejected(db, index, {**rows[0], "title": REJECTED_TEXT}, decided=dt.datetime(2026, 11, 5, 10))
    draft = store_point(db, {**rows[1], "title": DRAFT_TEXT})
    with db.session() as session:
        case_id = session.get(LearningPoint, ids["syn-012"]).case_id
        session.add(PseudonymEntry(case_id=case_id, placeholder="[PERSON_1]", entity_type="PERSON",
                                   original=MAP_ORIGINAL))
    open_action = track_action(db, AGENT, ids["syn-013"], action_index=0,
                               plan=ActionPlan(owner_role=f"Kvalitetskoordinator ({EMAIL})",
                                               due_date=dt.date(2026, 11, 1)))
    finished = track_action(db, AGENT, ids["syn-029"], action_index=0, plan=ActionPlan(owner_role="Plejehjemsleder"))
    update_action(db, AGENT, finished.id, ActionPlan(status=ActionStatus.done))
    with db.session() as session:
        session.get(ActionFollowUp, finished.id).done_at = dt.datetime(2026, 11, 20, 9)
    return settings, db, index, rows, ids, rejected, draft, open_action, finished


def build(world, **kwargs):
    settings, db, index = world[:3]
    return build_report(db, IndexVectors(index), AGENT, MONTH, settings=settings, today=dt.date(2026, 11, 23),
                        **kwargs)


@pytest.fixture(scope="module")
def report(world):
    return build(world, chat=LabelChat())


@pytest.fixture(scope="module")
def rendered(report):
    pdf = render(report, "pdf")
    document = pdfium.PdfDocument(pdf)
    try:
        pdf_text = "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()
    return {"md": render_markdown(report), "html": render_html(report), "pdf": pdf_text, "pdf_bytes": pdf}


def shown_point_ids(report) -> set[str]:
    return ({p.id for t in [*report.top_themes, *report.new_themes] for p in t.points}
            | {p.id for p in report.good_practice}
            | {a.learning_point_id for a in [*report.open_actions, *report.actions_done]})


def test_the_report_holds_only_approved_points(world, report, rendered):
    db, rejected, draft = world[1], world[5], world[6]
    with db.session() as session:
        approved = set(session.scalars(select(LearningPoint.id).where(LearningPoint.status == "approved")))
    shown = shown_point_ids(report)
    assert shown and shown <= approved
    for text in (rendered["md"], rendered["html"], rendered["pdf"]):
        assert REJECTED_TEXT not in text and DRAFT_TEXT not in text
        assert rejected not in text and draft not in text


def test_the_counts_match_the_store(world, report):
    db = world[1]
    with db.session() as session:
        decided = session.execute(select(LearningPoint).where(LearningPoint.decided_at.between(FIRST, LAST))).scalars()
        decided = list(decided)
        received = session.scalar(select(func.count()).select_from(Case).where(Case.created_at.between(FIRST, LAST)))
        waiting = session.scalar(select(func.count()).select_from(LearningPoint)
                                 .where(LearningPoint.status.in_(("draft", "returned"))))
    approved = [p for p in decided if p.status == "approved"]
    counts = report.counts
    assert counts.points_approved == len(approved) > 0
    assert counts.safety_ii == sum(p.safety_ii for p in approved)
    assert counts.points_rejected == sum(p.status == "rejected" for p in decided) == 1
    assert counts.cases_received == received
    assert counts.awaiting_decision == waiting == 1
    assert sum(counts.by_sector.values()) == sum(counts.by_category.values()) == len(approved)
    assert report.action_counts.model_dump() == {"planned": 1, "in_progress": 0, "done": 1, "dropped": 0,
                                                 "overdue": 1}
    assert [a.id for a in report.actions_done] == [world[8].id]


def test_top_themes_cite_two_or_three_points_each_and_mark_sector_crossings(report):
    assert 1 <= len(report.top_themes) <= 5
    for theme in report.top_themes:
        assert 2 <= len(theme.points) <= 3 and theme.this_month >= 1
        assert theme.label.startswith("Tema: ") and theme.label_source == "llm"
        assert theme.crosses_sectors == (len(theme.sectors) >= 2)
    assert any(t.crosses_sectors for t in report.top_themes)
    assert [t.this_month for t in report.top_themes] == sorted((t.this_month for t in report.top_themes),
                                                               reverse=True)


def test_good_practice_is_this_months_safety_ii(world, report):
    db = world[1]
    with db.session() as session:
        expected = set(session.scalars(select(LearningPoint.id).where(
            LearningPoint.status == "approved", LearningPoint.safety_ii.is_(True),
            LearningPoint.decided_at.between(FIRST, LAST))))
    assert {p.id for p in report.good_practice} == expected


def test_the_pseudonym_map_is_never_read(world):
    db = world[1]
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        built = build(world, chat=LabelChat())
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    assert statements and not [s for s in statements if "pseudonym_entries" in s]
    for text in (render_markdown(built), render_html(built)):
        assert MAP_ORIGINAL not in text


def test_the_final_scan_blanks_cpr_phone_and_email(report, rendered):
    assert find_cpr_numbers(f"CPR {CPR}") == [CPR]  # the planted number is one the recognisers know
    assert report.redactions == {"CPR": 1, "TELEFON": 1, "EMAIL": 2}
    for text in (rendered["md"], rendered["html"], rendered["pdf"]):
        assert CPR not in text and "22 33 44 55" not in text and EMAIL not in text
        assert not find_cpr_numbers(text) and not EMAIL_SHAPE.search(text)
        assert "[CPR]" in text.replace("\\", "") and "[EMAIL]" in text.replace("\\", "")
    assert "Sårsygeplejerske ringede tilbage samme dag" in rendered["md"]


def test_the_final_scan_leaves_record_ids_alone(world, report):
    # Ten digits inside a random hex id once looked like a CPR number and were blanked (a flaky count of 2).
    planted = "3969000570954fd2bc6d3008271422ac"
    point = report.good_practice[0].model_copy(update={"id": planted})
    again = safety_scan(report.model_copy(update={"good_practice": [point], "redactions": {}}), world[0])
    assert again.good_practice[0].id == planted and again.redactions == {}


def test_the_public_report_holds_only_public_points(world):
    db = world[1]
    public = build(world, audience="public")
    with db.session() as session:
        visible = list(session.scalars(select(LearningPoint).where(LearningPoint.visibility == "public",
                                                                   LearningPoint.status == "approved")))
    assert shown_point_ids(public) <= {p.id for p in visible}
    assert public.counts.points_approved == sum(FIRST <= p.decided_at <= LAST for p in visible)
    assert "Kvalitetskoordinator" not in render_markdown(public)  # its action belongs to a staff-only point


def test_the_pdf_renders_danish_text_and_its_first_page_is_saved(report, rendered, artifacts_dir):
    text = rendered["pdf"]
    assert "Læring fra debriefinger – november 2026" in text
    assert "Måneden i tal" in text and "God praksis, der er værd at sprede" in text
    assert "Største temaer denne måned" in text and "På tværs af sektorer" in text
    document = pdfium.PdfDocument(rendered["pdf_bytes"])
    try:
        image = document[0].render(scale=1.5).to_pil()
    finally:
        document.close()
    path = artifacts_dir / f"report-{MONTH}-page1.png"
    image.save(path)
    pixels = np.asarray(image.convert("L"))
    assert pixels.std() > 10 and (pixels < 128).mean() > 0.01  # ink on the page, not a blank sheet
    (artifacts_dir / f"report-{MONTH}.pdf").write_bytes(rendered["pdf_bytes"])
    (artifacts_dir / f"report-{MONTH}.md").write_text(rendered["md"], encoding="utf-8")


def test_text_from_people_cannot_inject_markup(world, report):
    sneaky = report.good_practice[0].model_copy(update={"title": "<script>alert(1)</script> # [link](http://x)"})
    changed = report.model_copy(update={"good_practice": [sneaky]})
    html, markdown = render_html(changed), render_markdown(changed)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "[link](http://x)" not in markdown and "\\[link\\]" in markdown


def test_a_model_that_fails_still_gives_a_report_with_keyword_headings(world):
    built = build(world, chat=GarbleChat())
    assert built.top_themes and all(t.label_source == "keywords" for t in built.top_themes)
    assert "overskrift fra nøgleord" in render_markdown(built)


def test_a_month_must_be_given_as_year_and_month(world):
    with pytest.raises(InvalidInput):
        build_report(world[1], IndexVectors(world[2]), AGENT, "november", settings=world[0])


def test_the_cli_writes_the_report(world, monkeypatch, tmp_path):
    settings = world[0]
    monkeypatch.setenv("DEBRIEF_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    from assistant.cli import app

    target = tmp_path / f"{uuid.uuid4().hex}.html"
    try:
        done = CliRunner().invoke(app, ["report", "--month", MONTH, "--format", "html", "--no-llm", "--output",
                                        str(target)], catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Måneden i tal" in html and CPR not in html


def test_the_report_names_points_by_their_references(report, rendered):
    points = [p for t in [*report.top_themes, *report.new_themes] for p in t.points] + report.good_practice
    assert points and all(p.reference.startswith("UTH-") and "/" in p.reference for p in points)
    for text in (rendered["md"], rendered["html"], rendered["pdf"]):
        assert all(p.reference in text for p in report.good_practice)
    assert not any(p.id in rendered["md"] or p.id in rendered["html"] for p in points)
    actions = [*report.open_actions, *report.actions_done]
    assert all(a.reference and a.reference in rendered["md"] for a in actions)
