"""Over HTTP (gradio_client): in Review a learning agent sees the approved cases like the one under review and marks
each "Ligner" / "Ligner ikke"; the judgement is stored; staff cannot reach it."""

from __future__ import annotations

import pytest

from assistant.review import approve, list_judgements
from tests.support.hardening_app import serve_app
from tests.support.learning_cases import AGENT, store_point, synthetic_points


def case_of(db, point_id: str) -> str:
    from assistant.store.tables import LearningPoint

    with db.session() as session:
        return session.get(LearningPoint, point_id).case_id


@pytest.fixture(scope="module")
def running_app(tmp_path_factory):
    with serve_app(tmp_path_factory.mktemp("similarity")) as app:
        yield app


@pytest.fixture(scope="module")
def insulin_cases(running_app) -> list[str]:
    """Three approved insulin cases and one about a fall, in the app's own store and index; the insulin case ids."""
    runtime = running_app.runtime
    rows = synthetic_points()
    chosen = [r for r in rows if r["theme"] == "insulin"][:3] + [r for r in rows if r["theme"] == "fald"][:1]
    ids = []
    for row in chosen:
        point_id = store_point(runtime.db, row)
        approve(runtime.db, runtime.index, AGENT, point_id)
        ids.append(case_of(runtime.db, point_id))
    return ids[:3]


def test_an_agent_sees_similar_earlier_cases_and_marks_one_similar(running_app, insulin_cases):
    agent = running_app.client("lars")
    table, other = agent.predict("da", insulin_cases[0], api_name="/similar_for_review")
    shown = {row[0] for row in table["data"]}
    assert len(table["data"]) == 3 and all(row[3] == "–" for row in table["data"])  # nothing judged yet
    assert insulin_cases[0] not in {c[1] for c in other["choices"]}  # never itself
    message = agent.predict("da", insulin_cases[0], insulin_cases[1], "Samme pen-forveksling",
                            api_name="/judge_similar")
    assert "ligner" in message and "Gemt" in message
    [judgement] = list_judgements(running_app.runtime.db)
    assert judgement.similar and judgement.judged_by == "lars" and judgement.note == "Samme pen-forveksling"
    table, _other = agent.predict("en", insulin_cases[0], api_name="/similar_for_review")
    assert "Similar" in {row[3] for row in table["data"]} and shown == {row[0] for row in table["data"]}


def test_not_similar_from_the_other_case_replaces_the_agents_earlier_judgement(running_app, insulin_cases):
    agent = running_app.client("lars")
    agent.predict("da", insulin_cases[2], insulin_cases[0], "", api_name="/judge_similar")
    message = agent.predict("en", insulin_cases[0], insulin_cases[2], "", api_name="/judge_not_similar")
    assert "is not similar to" in message
    mine = [j for j in list_judgements(running_app.runtime.db)
            if {j.case_a_id, j.case_b_id} == {insulin_cases[0], insulin_cases[2]}]
    assert [j.similar for j in mine] == [False]


def test_staff_can_neither_list_nor_judge_similar_cases(running_app, insulin_cases):
    staff = running_app.client("sofie")
    before = len(list_judgements(running_app.runtime.db))
    with pytest.raises(Exception, match="ikke lov|not allowed|rolle"):
        staff.predict("da", insulin_cases[0], insulin_cases[1], "", api_name="/judge_similar")
    with pytest.raises(Exception):
        staff.predict("da", insulin_cases[0], api_name="/similar_for_review")
    assert len(list_judgements(running_app.runtime.db)) == before
