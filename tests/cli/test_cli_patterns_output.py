"""`debrief patterns` names points by the references people read; the CSV keeps the id beside it for joins."""

from __future__ import annotations

import csv
import datetime as dt
import io

from assistant.cli import learning as cli_learning
from assistant.learning.patterns import PatternPoint, Patterns, Theme


def _found() -> Patterns:
    points = [PatternPoint(learning_point_id=f"{n:032x}", case_id=f"{n + 10:032x}", reference=f"UTH-2026-000{n}/1",
                           title="Insulin ved vagtskifte", text="Insulin", what_happened="Insulin blev givet to gange.",
                           sector=sector, category="medicin", day=dt.date(2026, 11, n))
              for n, sector in ((1, "hospital"), (2, "municipality"))]
    ids = [p.learning_point_id for p in points]
    theme = Theme(id="T1", label="Insulin ved vagtskifte", label_source="keywords", keywords=["insulin"],
                  member_ids=ids, cited_ids=ids, sectors={"hospital": 1, "municipality": 1}, months={"2026-11": 2},
                  categories={"medicin": 2}, safety_ii=0)
    return Patterns(since=None, until=None, audience="staff", point_count=2, themes=[theme], ungrouped_ids=[],
                    model_id=None, prompt="themes v1", seconds_vectors=0, seconds_clustering=0, seconds_naming=0,
                    points={p.learning_point_id: p for p in points})


def test_the_csv_has_each_points_reference_beside_its_id():
    rows = list(csv.DictReader(io.StringIO(_found().to_csv())))
    assert [(r["reference"], r["learning_point_id"]) for r in rows] == [
        ("UTH-2026-0001/1", f"{1:032x}"), ("UTH-2026-0002/1", f"{2:032x}")]


def test_the_themes_cite_references_not_ids(capsys):
    cli_learning._print_themes(_found(), llm=False)
    shown = capsys.readouterr().out
    assert "UTH-2026-0001/1, UTH-2026-0002/1" in shown and f"{1:032x}" not in shown
