"""Case vectors for similar cases: one vector per case and audience, kept by every write, fused with the points."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.auth import Actor, Role
from assistant.chat import similar_cases
from vectorstore.errors import IndexUnavailable
from vectorstore.fusion import FusionWeights, rank_cases
from vectorstore.index import LearningIndex, case_text
from vectorstore.schema import IndexedPoint, SearchFilters


def point(pid: str, case_id: str, text: str, visibility: str = "staff") -> IndexedPoint:
    return IndexedPoint(learning_point_id=pid, case_id=case_id, title=text.split(".")[0], text=text,
                        sector="hospital", category="fald", visibility=visibility)


POINTS = [
    point("a-1", "c-a", "Fald ud over sengegrinden. En konfus patient faldt om natten.", "public"),
    point("a-2", "c-a", "Ingen faldplan. Der var ingen sengealarm trods høj faldrisiko."),
    point("b-1", "c-b", "Forbytning af medicin. En beboer fik en anden beboers tabletter."),
]


def vector_ids(index: LearningIndex) -> set[str]:
    return set(index._cases.get(include=[])["ids"])


def test_case_vectors_follow_upsert_delete_erasure_and_reset(index: LearningIndex) -> None:
    index.upsert(POINTS)
    assert vector_ids(index) == {"c-a::staff", "c-a::public", "c-b::staff"}
    index.delete(["a-1"])  # the only public point: no public vector is left for the case
    assert vector_ids(index) == {"c-a::staff", "c-b::staff"}
    index.delete_case("c-b")
    assert vector_ids(index) == {"c-a::staff"}
    index.reset()
    assert vector_ids(index) == set()


def test_a_public_search_is_ranked_by_public_points_only(index: LearningIndex) -> None:
    index.upsert(POINTS)
    vector = index.embedder.embed_queries(["patient faldt ud af sengen"])[0]
    public_only = index.embedder.embed_queries([case_text([("\ta-1", POINTS[0].text)])])[0]
    public = index.case_cosines(["c-a", "c-b"], vector, "public")
    assert set(public) == {"c-a"} and abs(public["c-a"] - float(np.dot(public_only, vector))) < 1e-4
    assert set(index.case_cosines(["c-a", "c-b"], vector, "staff")) == {"c-a", "c-b"}
    cases = index.similar_cases("fald om natten", SearchFilters(visibility={"public"}), k=3)
    assert [c.case_id for c in cases] == ["c-a"] and [h.learning_point_id for h in cases[0].points] == ["a-1"]


def test_an_index_made_before_case_vectors_gets_them_when_opened(index: LearningIndex, settings) -> None:
    index.upsert(POINTS)
    index._cases.delete(ids=list(vector_ids(index)))
    reopened = LearningIndex(settings)
    assert vector_ids(reopened) == {"c-a::staff", "c-a::public", "c-b::staff"}


def test_case_text_gives_every_point_a_share_in_reference_order() -> None:
    text = case_text([("2", "b" * 3000), ("1", "a" * 3000)], limit=2000)
    assert len(text) == 2000 and text.startswith("a" * 1000 + "\n\n" + "b")


def test_the_case_vector_ranking_can_lift_a_case_and_weight_zero_ranks_by_points() -> None:
    points = {"x1": 0.20, "y1": 0.19}
    case_of = {"x1": "x", "y1": "y"}.__getitem__
    assert rank_cases(points, case_of, {"x": 0.80, "y": 0.90}, FusionWeights(case_vector=0.0)) == ["x", "y"]
    assert rank_cases(points, case_of, {"x": 0.80, "y": 0.90}, FusionWeights(case_vector=2.0)) == ["y", "x"]
    assert rank_cases(points, case_of, {}, FusionWeights()) == ["x", "y"]  # no case vectors: points decide


def test_the_bench_embedder_gives_case_texts_a_pooled_vector_and_questions_a_real_one() -> None:
    from assistant.bench.synthetic import PooledEmbedder, points

    class Real:
        model_id = "unit"

        def embed_passages(self, texts):
            return np.eye(8, dtype=np.float32)[: len(texts)]

        def embed_queries(self, texts):
            return np.full((len(texts), 8), -1.0, dtype=np.float32)

    batch = points(3, pool_size=3)
    embedder = PooledEmbedder(Real(), sorted({p.text.rpartition(" #")[0] for p in batch}))
    case = case_text([(p.learning_point_id, p.text) for p in batch])
    rows = embedder.embed_queries([case, "fald om natten"])
    assert np.allclose(rows[0], embedder.embed_passages([batch[0].text])[0]) and (rows[1] == -1.0).all()


def test_the_chat_shows_the_same_case_ranking_the_evaluation_measures(index: LearningIndex) -> None:
    index.upsert(POINTS)
    asked = "en konfus patient faldt ud af sengen om natten"
    result = similar_cases(index, Actor(name="s", role=Role.staff), asked, k=3)
    assert [c.case_id for c in result.cases] == [c.case_id for c in index.similar_cases(asked, k=3)]
    assert result.cases[0].case_id == "c-a" and {h.learning_point_id for h in result.hits} >= {"a-1", "a-2"}


def test_an_index_folder_another_client_is_writing_is_opened_again_not_given_up(index, settings, monkeypatch):
    busy = iter([IndexUnavailable("index.unavailable", reason="Database error: (code: 5) database is locked")])
    open_once = LearningIndex._open_once

    def locked_once(self, name=None):
        for error in busy:
            raise error
        return open_once(self, name)

    monkeypatch.setattr(LearningIndex, "_open_once", locked_once)
    monkeypatch.setattr("vectorstore.index._LOCKED_WAITS", (0.01, 0.01))
    assert LearningIndex(settings).count() == index.count()


def test_other_index_failures_are_not_retried(settings, monkeypatch):
    calls = []

    def broken(self, name=None):
        calls.append(name)
        raise IndexUnavailable("index.unavailable", reason="disk I/O error")

    monkeypatch.setattr(LearningIndex, "_open_once", broken)
    with pytest.raises(IndexUnavailable):
        LearningIndex(settings)
    assert len(calls) == 1
