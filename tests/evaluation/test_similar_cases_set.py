"""The realistic similar-case set: real sources, enough failure modes and sectors, honest splits; scoring helpers."""

from __future__ import annotations

from collections import Counter

from assistant.evaluation.retrieval_set import load_retrieval_set
from assistant.evaluation.similar_cases import QueryRun, recall_capped, threshold_errors
from tests.vectorstore.test_vectorstore import DATA

SET = load_retrieval_set(DATA / "retrieval_real_da.jsonl")


def test_set_has_eight_failure_modes_of_three_sources_across_sectors_and_twenty_off_topic_questions() -> None:
    sources = {group: {c.source_key for c in SET.cases if c.group == group}
               for group in {c.group for c in SET.cases if c.group}}
    assert len(sources) >= 8 and all(len(keys) >= 3 for keys in sources.values())
    assert len({c.sector for c in SET.cases if c.group}) >= 2
    assert len(SET.off_topic) >= 20
    assert all(c.source_url.startswith("https://") and c.licence for c in SET.cases)


def test_a_failure_mode_is_either_development_or_held_out_never_both() -> None:
    splits = Counter((c.group, c.split) for c in SET.cases if c.group)
    assert len({group for group, _ in splits}) == len(splits)
    assert {split for _, split in splits} == {"dev", "heldout"}
    assert {o.split for o in SET.off_topic} == {"dev", "heldout"}


def test_retellings_of_one_source_are_left_out_together_and_never_count_as_relevant() -> None:
    case = next(c for c in SET.cases if c.case_id == "real-022")
    assert SET.left_out(case) == {"real-022", "real-046"}
    assert "real-046" not in SET.relevant(case) and "real-023" in SET.relevant(case)


def test_recall_at_five_is_capped_at_five_relevant_cases() -> None:
    assert recall_capped(list("abcde"), set("abcdefg")) == 1.0
    assert recall_capped(["x", "a"], {"a", "b"}) == 0.5


def test_threshold_errors_count_off_topic_hits_and_on_topic_silence() -> None:
    runs = [QueryRun(case_id=None, split="dev", form="off_topic", relevant=[], cases={}, best={"new": 0.9}),
            QueryRun(case_id=None, split="dev", form="off_topic", relevant=[], cases={}, best={"new": 0.7}),
            QueryRun(case_id="a", split="dev", form="title", relevant=["b"], cases={}, best={"new": 0.8})]
    assert threshold_errors(runs, "new", 0.85) == {"off_topic_with_hit": 0.5, "on_topic_nothing": 1.0}
