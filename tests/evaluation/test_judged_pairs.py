"""`debrief eval --parts retrieval` scores the similar-case search against learning agents' judgements: on a real
record store and a real index of approved synthetic cases (``tests/data/themes_da.jsonl``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from assistant.evaluation import run_eval
from assistant.evaluation.judged_pairs import evaluate_judgements
from assistant.evaluation.run import tables
from assistant.review import approve, judge_similarity
from tests.support.learning_cases import AGENT, store_point, synthetic_points

DATA = Path(__file__).resolve().parents[1] / "data"


def case_id_of(db, point_id: str) -> str:
    from assistant.store.tables import LearningPoint

    with db.session() as session:
        return session.get(LearningPoint, point_id).case_id


@pytest.fixture
def themed_cases(db, index):
    """Four approved cases each about insulin mix-ups, falls and infusion pumps: {theme: [case id, …]}."""
    rows = synthetic_points()
    out: dict[str, list[str]] = {}
    for theme in ("insulin", "fald", "pumpe"):
        for row in [r for r in rows if r["theme"] == theme][:4]:
            point_id = store_point(db, row)
            approve(db, index, AGENT, point_id)
            out.setdefault(theme, []).append(case_id_of(db, point_id))
    return out


def test_judged_pairs_give_recall_for_similar_and_false_similar_rate_for_not_similar(db, index, themed_cases):
    insulin, fall = themed_cases["insulin"], themed_cases["fald"]
    judge_similarity(db, AGENT, insulin[0], insulin[1], similar=True)
    judge_similarity(db, AGENT, fall[0], insulin[0], similar=False)
    result = evaluate_judgements(db, index)
    assert result["judgements"] == 2 and result["similar_judgements"] == 1 and result["not_similar_judgements"] == 1
    assert result["similar_queries"] == 2 and result["not_similar_queries"] == 2  # each pair asked both ways
    assert result["recall@5"] == 1.0
    assert result["false_similar@5"] == 0.0


def test_a_pair_whose_other_case_is_not_approved_is_only_asked_towards_the_approved_one(db, index, themed_cases):
    drafted = case_id_of(db, store_point(db, synthetic_points()[1]))  # an insulin case, still a draft
    judge_similarity(db, AGENT, drafted, themed_cases["insulin"][0], similar=True)
    result = evaluate_judgements(db, index)
    assert result["similar_queries"] == 1 and result["skipped_queries"] == 1
    assert result["recall@5"] == 1.0


def test_without_judgements_the_evaluation_says_so_in_one_line(db, index):
    assert evaluate_judgements(db, index) == {"judgements": 0}
    console = Console(record=True, width=160)
    for table in tables({"parts": {"retrieval": {"methods": {}, "judgements": {"judgements": 0}}}}):
        console.print(table)
    assert "no similarity judgements in the store yet" in console.export_text()


def test_debrief_eval_retrieval_reports_the_stored_judgements_beside_the_data_set(
        db, index, settings, themed_cases, tmp_path):
    judge_similarity(db, AGENT, themed_cases["pumpe"][0], themed_cases["pumpe"][1], similar=True)
    # A slice of the shipped synthetic set keeps this fast; the judgements come from the store.
    points = [json.loads(line) for line in (DATA / "learning_points_da.jsonl").read_text("utf-8").splitlines()][:8]
    kept = {p["learning_point_id"] for p in points}
    queries = [q for q in map(json.loads, (DATA / "retrieval_da.jsonl").read_text("utf-8").splitlines())
               if set(q.get("relevant_ids") or []) & kept][:4]
    (tmp_path / "points.jsonl").write_text("".join(json.dumps(p) + "\n" for p in points), "utf-8")
    (tmp_path / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries), "utf-8")
    result = run_eval(settings, ["retrieval"], asr_dir=tmp_path, asr_limit=None, pseudonymisation=tmp_path,
                      drafting=tmp_path, drafting_limit=None, skip_llm=True, points=tmp_path / "points.jsonl",
                      queries=tmp_path / "queries.jsonl")
    retrieval = result["parts"]["retrieval"]
    assert "error" not in retrieval, retrieval.get("traceback")
    assert retrieval["judgements"]["judgements"] == 1 and retrieval["judgements"]["recall@5"] == 1.0
    console = Console(record=True, width=200)
    for table in tables(result):
        console.print(table)
    text = console.export_text()
    assert "similarity judgements (Review): 1 judgements" in text and "recall@5" in text


def test_debrief_judgements_export_keeps_the_judgements_as_an_evaluation_file(cli, db, tmp_path):
    first, second = (case_id_of(db, store_point(db, row)) for row in synthetic_points()[:2])
    judge_similarity(db, AGENT, first, second, similar=True, note="Samme insulinpenne")
    output = tmp_path / "judgements.jsonl"
    done = cli("judgements", "export", "--output", str(output))
    assert done.exit_code == 0 and "1 judgements" in done.output
    [line] = [json.loads(text) for text in output.read_text("utf-8").splitlines()]
    assert line["similar"] is True and line["note"] == "Samme insulinpenne"
    assert {line["case_a_id"], line["case_b_id"]} == {first, second} and line["case_a"].startswith("UTH-")
