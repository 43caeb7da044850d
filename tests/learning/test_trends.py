"""Trends over the record store: counts by unit and month, what went well beside what went wrong, the review
backlog and how long decisions take — as frames for the Overview plots and as JSON/CSV from ``debrief trends``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from assistant.auth import Actor, Role
from assistant.errors import NotAllowed
from assistant.learning import overview
from assistant.store import open_database
from assistant.store.tables import LearningPoint
from tests.support.learning_cases import AGENT, store_approved, store_point, store_rejected, synthetic_points
from vectorstore.index import LearningIndex

NOW = dt.datetime(2026, 11, 20, 12, 0)


def decided_after(db, point_id: str, days: float) -> None:
    """Drafted at NOW minus ``days``, decided at NOW: a decision that took ``days``."""
    with db.session() as session:
        point = session.get(LearningPoint, point_id)
        point.created_at, point.decided_at = NOW - dt.timedelta(days=days), NOW


@pytest.fixture
def store(settings):
    """Three approved points (one Safety-II), one rejected, two awaiting decision, in two units and months."""
    db, index = open_database(settings), LearningIndex(settings)
    rows = {r["id"]: r for r in synthetic_points()}
    approved = store_approved(db, index, [rows["syn-001"], rows["syn-005"], rows["syn-013"]])
    rejected = store_rejected(db, index, rows["syn-002"])
    waiting = [store_point(db, rows["syn-003"]), store_point(db, rows["syn-004"])]
    for point_id, days in zip([*approved.values(), rejected], (1, 3, 5, 9)):
        decided_after(db, point_id, days)
    return db, rows, approved, rejected, waiting


def test_trends_count_units_outcomes_backlog_and_decision_speed(store):
    db, rows, _, _, _ = store
    data = overview(db, AGENT)
    units = {(r.unit, r.sector): r.cases for r in data.by_unit.itertuples()}
    assert units == {("Medicinsk afsnit M2", "hospital"): 2, ("Endokrinologisk afsnit", "hospital"): 1,
                     ("Hjemmeplejen Nord", "municipality"): 1, ("Akutmodtagelsen", "hospital"): 1,
                     ("Plejecenter Egebo", "municipality"): 1}
    assert data.by_unit.cases.tolist() == sorted(data.by_unit.cases.tolist(), reverse=True)
    outcome = {(r.month, r.outcome): r.points for r in data.by_outcome.itertuples()}
    # syn-001 (2026-01) and syn-013 (2026-01) went wrong; syn-005 (2026-05) is Safety-II.
    assert outcome == {("2026-01", "went_wrong"): 2, ("2026-05", "went_well"): 1}
    assert dict(zip(data.backlog.month, data.backlog.open_points)) == {"2026-03": 1, "2026-04": 1}
    assert data.decision_days.to_dict("records") == [{"month": "2026-11", "decisions": 4, "median_days": 4.0}]
    assert (data.points_awaiting_decision, data.points_approved, data.points_rejected) == (2, 3, 1)
    assert data.median_days_to_decision == 4.0


def test_trends_need_the_reports_permission(store):
    db = store[0]
    with pytest.raises(NotAllowed):
        overview(db, Actor(name="sofie", role=Role.staff))


def test_the_cli_exports_trends_as_json_and_csv(store, cli, tmp_path):
    done = cli("trends", "--format", "json")
    assert done.exit_code == 0, done.output
    exported = json.loads(done.stdout)
    assert exported["summary"]["points_approved"] == 3 and exported["summary"]["cases_total"] == 6
    assert {"month": "2026-05", "outcome": "went_well", "points": 1} in exported["tables"]["by_outcome"]

    target = tmp_path / "units.csv"
    done = cli("trends", "--format", "csv", "--table", "by_unit", "--output", str(target))
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert rows[0] == {"unit": "Medicinsk afsnit M2", "sector": "hospital", "cases": "2"}
    assert len(rows) == 5

    done = cli("trends", "--format", "csv", "--table", "nonsense")
    assert done.exit_code != 0
