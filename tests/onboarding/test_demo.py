"""`debrief demo load` fills an empty store with marked synthetic cases in every state, through the real
intake, pipeline, review and learning functions; `demo clear` removes exactly them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from assistant.audit import events_for_case
from assistant.auth import Actor, Role
from assistant.cases import load_case
from assistant.errors import InvalidInput
from assistant.indexing import check_index
from assistant.intake import submit_notes
from assistant.jobs import Components
from assistant.learning import IndexVectors, find_patterns, list_actions, overview
from assistant.models import CaseContext, Sector
from assistant.onboarding import MARKER, clear_demo, demo_case_ids, load_demo
from assistant.review import review_queue, status_by_receipt
from assistant.store.tables import Case, LearningPoint
from tests.support.fakes import FakePseudonymiser

AGENT = Actor(user_id="a1", name="agent-anne", role=Role.learning_agent)


@pytest.fixture
def components(settings):
    """No model at all: a pseudonymiser stand-in; the demo's drafts are data, and a chat model would fail."""
    return Components(settings, pseudonymiser_=FakePseudonymiser())


@pytest.fixture
def loaded(db, index, settings, components):
    return load_demo(db, index, settings, components)


def _point_statuses(db) -> dict[str, int]:
    with db.session() as session:
        statuses = session.scalars(select(LearningPoint.status))
        counts: dict[str, int] = {}
        for status in statuses:
            counts[status] = counts.get(status, 0) + 1
        return counts


def test_demo_load_fills_every_state_a_newcomer_should_see(db, index, settings, loaded):
    assert {c.status for c in loaded.cases} == {"awaiting_review", "in_review", "decided"}
    assert set(_point_statuses(db)) == {"draft", "approved", "rejected", "returned"}
    assert review_queue(db, AGENT), "the Review tab has cases waiting"
    trends = overview(db, AGENT)
    assert trends.points_approved and trends.points_rejected and trends.points_awaiting_decision
    assert trends.by_month["month"].nunique() >= 3, "the trend plots span several months"
    actions = list_actions(db, AGENT)
    assert {a.status for a in actions} >= {"planned", "in_progress"}
    patterns = find_patterns(db, IndexVectors(index), AGENT)
    assert patterns.themes, "the Overview tab shows at least one theme"
    assert check_index(db, index).consistent
    assert index.count() == _point_statuses(db)["approved"]


def test_every_demo_case_is_marked_where_people_read_it(db, loaded):
    for case in loaded.cases:
        view = load_case(db, case.case_id)
        assert view.source_kind == "demo"
        assert view.segments[0].text == MARKER
        assert "(demo)" in view.unit
        assert view.prompt.startswith("demo")


def test_the_status_tab_shows_a_question_and_feedback_by_receipt_code(db, loaded):
    returned = next(c for c in loaded.cases if c.key == "bosted-laegekontakt")
    status = status_by_receipt(db, returned.receipt_code)
    assert status.questions, "the Status tab shows the learning agent's question"
    decided = next(c for c in loaded.cases if c.key == "insulin-vagtskifte")
    assert status_by_receipt(db, decided.receipt_code).feedback, "and a decided case shows the released feedback"


def test_loading_twice_is_refused_and_changes_nothing(db, index, settings, components, loaded):
    before = demo_case_ids(db)
    with pytest.raises(InvalidInput) as refused:
        load_demo(db, index, settings, components)
    assert refused.value.key == "onboarding.demo_loaded_already"
    assert demo_case_ids(db) == before


def test_demo_load_refuses_a_store_with_real_cases_unless_forced(db, index, settings, components):
    submit_notes(db, settings, "Patienten faldt ved sengen om natten.", CaseContext(sector=Sector.hospital))
    with pytest.raises(InvalidInput) as refused:
        load_demo(db, index, settings, components)
    assert refused.value.key == "onboarding.demo_real_cases"
    assert demo_case_ids(db) == []
    assert load_demo(db, index, settings, components, force=True).cases


def test_demo_clear_removes_exactly_the_demo_cases_and_keeps_a_real_one(db, index, settings, components):
    real = submit_notes(db, settings, "Insulin blev givet to gange ved vagtskiftet.", CaseContext())
    loaded = load_demo(db, index, settings, components, force=True)

    assert clear_demo(db, index, settings) == len(loaded.cases)

    with db.session() as session:
        assert list(session.scalars(select(Case.id))) == [real.case_id]
    assert index.count() == 0
    assert check_index(db, index).consistent
    trail = events_for_case(db, loaded.cases[0].case_id)
    assert trail[-1]["action"] == "case_erased" and trail[-1]["after"] == {"reason": "demo"}
    assert load_demo(db, index, settings, components, force=True).cases, "cleared, the demo loads again"


def test_workers_leave_demo_jobs_to_the_loader(db, settings):
    """A running app's worker would draft a demo case with the real model; it must not take one."""
    from assistant.jobs.runner import claim_next_job

    submit_notes(db, settings, "Demo-noter om et fald.", CaseContext(), demo=True)
    assert claim_next_job(db, "app-worker") is None
    real = submit_notes(db, settings, "Rigtige noter om et fald.", CaseContext())
    assert claim_next_job(db, "app-worker") == real.job_id
