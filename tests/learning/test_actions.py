"""Follow-up of suggested actions (PDSA) on approved learning points: owner role, due date, status — audited,
listed for reports, and gone with the case when it is erased."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from assistant.audit import events_for_case
from assistant.auth import SYSTEM, Actor, Role
from assistant.errors import InvalidInput, NotAllowed
from assistant.learning import ActionPlan, ActionStatus, count_actions, list_actions, track_action, update_action
from assistant.review import erase_case, reopen
from assistant.settings import get_settings
from assistant.store import open_database
from assistant.store.tables import ActionFollowUp
from tests.support.learning_cases import AGENT, store_approved, store_point, synthetic_points
from vectorstore.index import LearningIndex

STAFF = Actor(name="sofie", role=Role.staff)


@pytest.fixture
def approved(settings):
    db, index = open_database(settings), LearningIndex(settings)
    rows = {r["id"]: r for r in synthetic_points()}
    ids = store_approved(db, index, [rows["syn-013"], rows["syn-018"]])  # staff / public
    return db, index, ids["syn-013"], ids["syn-018"]


def test_a_suggested_action_is_followed_up_to_done_and_every_step_is_audited(approved):
    db, _, point_id, _ = approved
    tracked = track_action(db, AGENT, point_id, action_index=0,
                           plan=ActionPlan(owner_role="Afdelingssygeplejerske", due_date=dt.date(2026, 12, 15)))
    assert tracked.action == "Afstem medicinkortet (FMK) før udskrivelse"
    assert (tracked.status, tracked.owner_role, tracked.done_at) == (ActionStatus.planned, "Afdelingssygeplejerske",
                                                                     None)
    update_action(db, AGENT, tracked.id, ActionPlan(status=ActionStatus.in_progress))
    done = update_action(db, AGENT, tracked.id, ActionPlan(status=ActionStatus.done, note="Tjekliste indført"))
    assert done.status == ActionStatus.done and done.done_at is not None and done.owner_role == "Afdelingssygeplejerske"
    events = [e for e in events_for_case(db, tracked.case_id) if e["action"].startswith("action_")]
    assert [e["action"] for e in events] == ["action_tracked", "action_updated", "action_updated"]
    assert events[-1]["before"]["status"] == "in_progress" and events[-1]["after"]["status"] == "done"
    assert all(e["actor"] == AGENT.name for e in events)


def test_only_approved_points_and_real_actions_can_be_followed_up(approved, settings):
    db, _, point_id, _ = approved
    draft_id = store_point(db, synthetic_points()[0])
    with pytest.raises(InvalidInput) as refused:
        track_action(db, AGENT, draft_id, action_index=0)
    assert refused.value.key == "learning.action_needs_approved_point"
    with pytest.raises(InvalidInput):
        track_action(db, AGENT, point_id, action_index=5)
    with pytest.raises(InvalidInput):
        track_action(db, AGENT, point_id, action="   ")
    with pytest.raises(NotAllowed):
        track_action(db, STAFF, point_id, action_index=0)
    own = track_action(db, AGENT, point_id, action="Fælles udskrivningstjekliste med kommunen")
    assert own.action == "Fælles udskrivningstjekliste med kommunen"


def test_listing_shows_approved_points_only_by_audience_and_counts_what_is_overdue(approved):
    db, index, staff_point, public_point = approved
    late = track_action(db, AGENT, staff_point, action_index=0, plan=ActionPlan(due_date=dt.date(2026, 10, 1)))
    public = track_action(db, AGENT, public_point, action_index=0,
                          plan=ActionPlan(due_date=dt.date(2026, 12, 1), status=ActionStatus.in_progress))
    listed = list_actions(db, AGENT)
    assert [a.id for a in listed] == [late.id, public.id]  # soonest due first
    assert [a.id for a in list_actions(db, AGENT, visibility={"public"})] == [public.id]
    counts = count_actions(listed, dt.date(2026, 11, 23))
    assert (counts.planned, counts.in_progress, counts.overdue) == (1, 1, 1)
    reopen(db, index, AGENT, staff_point, note="Skal omformuleres")
    assert [a.id for a in list_actions(db, AGENT)] == [public.id]


def test_erasing_a_case_erases_its_follow_ups(approved, settings):
    db, index, point_id, _ = approved
    tracked = track_action(db, AGENT, point_id, action_index=0, plan=ActionPlan(owner_role="Kvalitetskoordinator"))
    erase_case(db, index, settings, SYSTEM, tracked.case_id)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ActionFollowUp)) == 0


def test_actions_are_followed_up_from_the_cli(approved, settings, monkeypatch):
    db, _, point_id, _ = approved
    monkeypatch.setenv("DEBRIEF_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    from assistant.cli import app

    runner = CliRunner()
    try:
        added = runner.invoke(app, ["actions", "add", point_id, "--index", "1", "--owner-role", "Afdelingsleder",
                                    "--due", "2026-12-01"], catch_exceptions=False)
        assert added.exit_code == 0, added.output
        action_id = added.stdout.split("id ")[1].split(".")[0].strip()
        updated = runner.invoke(app, ["actions", "update", action_id, "--status", "done"], catch_exceptions=False)
        assert updated.exit_code == 0, updated.output
        listed = json.loads(runner.invoke(app, ["actions", "list", "--format", "json"]).stdout)
        assert [(a["id"], a["status"], a["owner_role"]) for a in listed] == [(action_id, "done", "Afdelingsleder")]
        wrong = runner.invoke(app, ["actions", "update", action_id, "--status", "finished"])
        assert wrong.exit_code != 0
    finally:
        get_settings.cache_clear()
