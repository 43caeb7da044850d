"""``debrief review list`` narrows the review queue like the Review tab: sector, unit, category, event dates and
case status (by default the cases still waiting for a decision)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from assistant.review import approve
from assistant.settings import get_settings
from assistant.store import open_database
from assistant.store.tables import LearningPoint
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
    """Three cases: two waiting (hospital and municipality), one decided; returns name → case id."""
    db = open_database(settings)
    ids = {}
    for name, row in ROWS.items():
        point_id = store_point(db, row)
        with db.session() as session:
            ids[name] = session.get(LearningPoint, point_id).case_id
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
        return set(re.findall(r"^([0-9a-f]{32})\s", done.stdout, re.M))  # a row starts with its case id

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
