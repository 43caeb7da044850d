"""The open dashboard's counts: only public approved points, and no count under the threshold, neither shown nor
recoverable by subtracting the shown counts from the (public) total."""

from __future__ import annotations

import random

import pytest

from assistant.auth import PUBLIC, Actor, Role
from assistant.learning.public_counts import OTHERS, public_dashboard, withhold_small_counts
from assistant.learning.trends import approved_counts
from assistant.references import parse_reference
from assistant.settings import Settings
from assistant.store import open_database
from tests.support.learning_cases import open_dashboard_points, points_of, store_approved
from vectorstore.index import LearningIndex

THRESHOLD = 5


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The public and staff-only points of ``open_dashboard_points`` (14 public, 11 staff only)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("public-counts") / "data", cpu_threads=2)
    db, index = open_database(settings), LearningIndex(settings)
    public, staff = open_dashboard_points()
    store_approved(db, index, public + staff)
    return db, public


def test_staff_only_points_are_never_counted_on_the_open_dashboard(store):
    db, public = store
    data = public_dashboard(db, PUBLIC, THRESHOLD)
    assert data.total == len(public) == 14
    assert "diagnostik" not in data.by_category.shown()
    assert "2026-02" not in data.by_month.shown()  # the staff-only month
    assert sorted(p.title for p in data.points) == sorted(r["title"] for r in public)
    numbers = [parse_reference(p.reference).number for p in data.points]  # "UTH-2026-0003/1", never an id
    assert numbers == sorted(numbers, reverse=True)  # newest first


def test_a_logged_in_member_of_staff_sees_the_same_open_dashboard(store):
    db, _ = store
    staff = Actor(name="sofie", role=Role.staff)
    assert public_dashboard(db, staff, THRESHOLD) == public_dashboard(db, PUBLIC, THRESHOLD)


def test_a_category_with_six_public_points_is_shown_as_six(store):
    data = public_dashboard(store[0], PUBLIC, THRESHOLD)
    assert data.by_category.shown()["medicin"] == 6
    assert data.by_sector.shown()["hospital"] == 6  # the 7 staff-only hospital points are not in it
    assert data.by_month.shown()["2026-01"] == 6


def test_a_category_with_three_public_points_is_not_shown_as_three(store):
    data = public_dashboard(store[0], PUBLIC, THRESHOLD)
    assert "fald" not in data.by_category.shown() and "municipality" not in data.by_sector.shown()
    for table in (data.by_category, data.by_sector, data.by_month):
        assert all(n >= THRESHOLD for n in table.shown().values())
    assert set(data.by_month.shown()) == {"2026-01", OTHERS}  # 2, 3, 2 and 1 points in the other months


def test_the_total_minus_the_shown_counts_does_not_give_the_three_falls_away(store):
    data = public_dashboard(store[0], PUBLIC, THRESHOLD)
    named = {key: n for key, n in data.by_category.shown().items() if key != OTHERS}
    # Equipment (5) would be shown by itself, but then 14 − 6 − 5 = 3 would be the falls: it goes into "others".
    assert named == {"medicin": 6}
    assert data.total - sum(named.values()) == data.by_category.shown()[OTHERS] == 8


def test_the_public_audience_counts_only_public_points_even_when_staff_is_asked_for(store):
    db, _ = store
    reporter = Actor(name="rita", role=Role.reporter)  # may read public points only
    assert approved_counts(db, reporter, audience="staff").by_category == {"medicin": 6, "fald": 3, "udstyr": 5}
    agent = Actor(name="lars", role=Role.learning_agent)
    assert approved_counts(db, agent, audience="staff").by_category["fald"] == 7


def test_fewer_public_points_than_the_threshold_show_no_figures(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", cpu_threads=2)
    db, index = open_database(settings), LearningIndex(settings)
    store_approved(db, index, points_of("fald", 4, visibility="public", sector="hospital", months=["2026-05"]))
    data = public_dashboard(db, PUBLIC, THRESHOLD)
    assert not data.enough and data.total is None
    assert data.by_category.buckets == data.by_sector.buckets == data.by_month.buckets == []
    assert len(data.points) == 4  # the points themselves are public; only their counts are withheld


@pytest.mark.parametrize("seed", range(300))
def test_no_small_bucket_can_be_worked_out_from_any_table(seed):
    rng = random.Random(seed)
    counts = {f"b{i}": rng.choice([0, 1, 1, 2, 3, 4, 5, 6, 7, 9, 12, 30]) for i in range(rng.randint(1, 8))}
    total = sum(counts.values())
    if total < THRESHOLD:
        return  # the dashboard shows no table at all then
    table = withhold_small_counts(counts, THRESHOLD)
    named = {key: n for key, n in table.shown().items() if key != OTHERS}
    assert all(counts[key] == n >= THRESHOLD for key, n in named.items())
    hidden = [key for key, n in counts.items() if n > 0 and key not in named]
    assert not hidden or (len(hidden) >= 2 and total - sum(named.values()) >= THRESHOLD)
    assert table.shown().get(OTHERS, 0) == total - sum(named.values())  # "others" adds nothing the total did not
