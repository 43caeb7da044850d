"""``debrief review list`` narrows the review queue like the Review tab: sector, unit, category, event dates and
case status (by default the cases still waiting for a decision)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from assistant.review import approve
from assistant.settings import get_settings
from assistant.store import open_database
from assistant.store.tables import Case, LearningPoint
from tests.support.learning_cases import AGENT, store_point
from vectorstore.index import LearningIndex

ROWS = {
    "insulin": {"title": "Insulin givet to gange", "what_happened": "Dobbelt dosis ved vagtskifte.",
                "category": "medicin", "sector": "hospital", "unit": "Akutmodtagelsen", "event_date": "2026-03-02"},
    "fald": {"title": "Fald om natten", "what_happened": "Borgeren faldt på badeværelset.", "category": "fald",
             "sector": "municipality", "unit": "Hjemmeplejen Nord", "event_date": "2026-04-15"},
    "sonde": {"title": "Sondemad i forkert sonde", "what_happened": "Kollegaen stoppede det i tide.",
              "category": "medicin", "sector": "hospital", "unit": "Medicinsk afsnit M2", "event_date": "2026-05-20"},
}


@pytest.fixture
def queue(settings):
    """Three cases: two waiting (hospital and municipality), one decided; returns name → case reference."""
    db = open_database(settings)
    ids = {}
    for name, row in ROWS.items():
        point_id = store_point(db, row)
        with db.session() as session:
            ids[name] = session.get(Case, session.get(LearningPoint, point_id).case_id).reference
        if name == "sonde":
            approve(db, LearningIndex(settings), AGENT, point_id)
    return ids


@pytest.fixture
def review_list(settings, monkeypatch):
    monkeypatch.setenv("DEBRIEF_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    from assistant.cli import app

    def listed(*options: str) -> set[str]:
        done = CliRunner().invoke(app, ["review", "list", *options], catch_exceptions=False)
        assert done.exit_code == 0, done.output
        return set(re.findall(r"^(UTH-\d{4}-\d{4})\s", done.stdout, re.M))  # a row starts with its reference

    yield listed
    get_settings.cache_clear()


def test_review_list_shows_the_cases_waiting_for_a_decision_by_default(queue, review_list):
    assert review_list() == {queue["insulin"], queue["fald"]}


def test_review_list_filters_by_sector_unit_and_category(queue, review_list):
    assert review_list("--sector", "municipality") == {queue["fald"]}
    assert review_list("--sector", "hospital", "--sector", "municipality") == {queue["insulin"], queue["fald"]}
    assert review_list("--unit", "akut") == {queue["insulin"]}
    assert review_list("--category", "fald") == {queue["fald"]}
    assert review_list("--category", "medicin", "--sector", "municipality") == set()


def test_review_list_filters_by_event_date(queue, review_list):
    assert review_list("--since", "2026-04-01") == {queue["fald"]}
    assert review_list("--until", "2026-03-31") == {queue["insulin"]}
    assert review_list("--since", "2026-03-01", "--until", "2026-04-30") == {queue["insulin"], queue["fald"]}


def test_review_list_filters_by_case_status(queue, review_list):
    assert review_list("--status", "decided") == {queue["sonde"]}
    assert review_list("--status", "decided", "--status", "awaiting_review") == set(queue.values())
    assert review_list("--status", "decided", "--category", "fald") == set()


def test_review_list_refuses_an_unknown_status(queue, settings, monkeypatch):
    monkeypatch.setenv("DEBRIEF_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    from assistant.cli import app

    done = CliRunner().invoke(app, ["review", "list", "--status", "halvfærdig"])
    get_settings.cache_clear()
    assert done.exit_code == 2 and "halvfærdig" in done.output


def test_review_list_shows_references_not_ids(queue, cli):
    done = cli("review", "list", "--status", "decided", "--status", "awaiting_review")
    assert sorted(re.findall(r"^UTH-\d{4}-\d{4}", done.stdout, re.M)) == sorted(queue.values())
    assert not re.search(r"[0-9a-f]{32}", done.stdout)


def test_show_finds_a_case_by_its_reference_as_by_its_id(settings, cli):
    db = open_database(settings)
    point_id = store_point(db, ROWS["insulin"])
    with db.session() as session:
        case = session.get(Case, session.get(LearningPoint, point_id).case_id)
        case_id, reference = case.id, case.reference
    by_id, by_reference, typed = cli("show", case_id), cli("show", reference), cli("show", reference.lower())
    assert by_id.exit_code == by_reference.exit_code == typed.exit_code == 0, by_reference.output
    assert by_id.stdout == by_reference.stdout == typed.stdout
    assert f"{reference}/1" in by_reference.stdout and "Insulin givet to gange" in by_reference.stdout
    assert case_id not in by_reference.stdout and point_id not in by_reference.stdout
    missing = cli("show", "UTH-1999-0001")
    assert missing.exit_code == 2 and "UTH-1999-0001" in missing.output


def test_a_point_is_approved_by_its_reference(settings, cli):
    db = open_database(settings)
    first, second = store_point(db, ROWS["insulin"]), store_point(db, ROWS["fald"])
    with db.session() as session:
        reference = session.get(Case, session.get(LearningPoint, second).case_id).reference
    assert cli("review", "approve", f"{reference}/1").exit_code == 0
    assert cli("review", "reject", first, "duplicate").exit_code == 0  # the id still works
    with db.session() as session:
        assert session.get(LearningPoint, second).status == "approved"
        assert session.get(LearningPoint, first).status == "rejected"
