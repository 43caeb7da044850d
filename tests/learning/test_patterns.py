"""Patterns across cases: approved points from a real store and index grouped into themes, named, and counted over
months and sectors. The synthetic set (tests/data/themes_da.jsonl) has 72 Danish points in 6 known themes."""

from __future__ import annotations

import datetime as dt
import json
import time

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from assistant.auth import Actor, Role
from assistant.errors import ModelUnavailable, NotAllowed
from assistant.learning import (
    EmbedderVectors,
    IndexVectors,
    PatternPoint,
    Theme,
    approved_points,
    cluster_vectors,
    find_patterns,
    name_theme,
    theme_keywords,
)
from assistant.llm import ChatReply, LlamaCppChat
from assistant.settings import Settings
from assistant.store import open_database
from tests.support.learning_cases import AGENT, GarbleChat, LabelChat, store_approved, synthetic_points
from vectorstore.index import LearningIndex

MIN_ARI = 0.7


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """The 72 synthetic points approved through the review workflow into a real store and Chroma index."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("patterns") / "data", cpu_threads=2)
    db, index = open_database(settings), LearningIndex(settings)
    rows = synthetic_points()
    ids = store_approved(db, index, rows)
    truth = {ids[row["id"]]: row["theme"] for row in rows}
    return settings, db, index, rows, ids, truth


def test_clustering_recovers_the_known_themes_of_the_synthetic_set(stored, artifacts_dir):
    _, db, index, rows, _, truth = stored
    assert len(rows) >= 60 and len(set(truth.values())) >= 5
    assert len({r["sector"] for r in rows}) == 3
    found = find_patterns(db, IndexVectors(index), AGENT, chat=LabelChat())
    label = {m: t.id for t in found.themes for m in t.member_ids}
    ids = sorted(truth)
    ari = adjusted_rand_score([truth[i] for i in ids], [label.get(i, "none") for i in ids])
    (artifacts_dir / "patterns-ari.json").write_text(json.dumps({
        "points": len(ids), "known_themes": len(set(truth.values())), "themes_found": len(found.themes),
        "ungrouped": len(found.ungrouped_ids), "adjusted_rand_index": round(ari, 4),
        "seconds_clustering": found.seconds_clustering}, indent=2))
    print(f"ARI {ari:.3f} with {len(found.themes)} themes for {len(set(truth.values()))} known")
    assert ari >= MIN_ARI


def test_every_theme_is_named_citing_its_own_members(stored):
    _, db, index, _, _, _ = stored
    chat = LabelChat()
    found = find_patterns(db, IndexVectors(index), AGENT, chat=chat)
    assert found.themes and chat.calls == len(found.themes)
    for theme in found.themes:
        assert theme.label_source == "llm" and theme.label.startswith("Tema: ")
        assert theme.cited_ids and set(theme.cited_ids) <= set(theme.member_ids)
        assert theme.keywords[0].lower() in theme.label.lower()
    assert found.model_id == "label-fake" and found.prompt == "name_theme v2"


def test_the_discharge_medication_theme_crosses_sectors_and_grows_by_month(stored):
    _, db, index, rows, ids, _ = stored
    found = find_patterns(db, IndexVectors(index), AGENT)
    medication_lists = {ids[r["id"]] for r in rows if r["theme"] == "medicinliste"}
    theme = max(found.themes, key=lambda t: len(medication_lists & set(t.member_ids)))
    assert theme.crosses_sectors
    assert set(theme.sectors) == {"hospital", "municipality", "general_practice"}
    members = [found.points[m] for m in theme.member_ids]
    assert sum(theme.months.values()) == theme.size == len(members)
    assert theme.months == {m: sum(p.month == m for p in members) for m in {p.month for p in members}}
    by_month = found.by_month()
    assert by_month[by_month.theme.str.startswith(theme.id + " ")].points.sum() == theme.size


def test_a_theme_from_one_sector_does_not_cross_sectors():
    one = Theme(id="T1", label="Fald om natten", label_source="keywords", keywords=["fald"], member_ids=["a", "b"],
                cited_ids=["a"], sectors={"municipality": 2}, months={"2026-01": 2}, categories={"fald": 2},
                safety_ii=0)
    assert not one.crosses_sectors
    assert one.model_copy(update={"sectors": {"municipality": 1, "hospital": 1}}).crosses_sectors


def test_a_period_and_the_public_audience_narrow_the_points(stored):
    _, db, _, rows, ids, _ = stored
    autumn = approved_points(db, since=dt.date(2026, 9, 1), until=dt.date(2026, 10, 31))
    assert {p.learning_point_id for p in autumn} == {ids[r["id"]] for r in rows
                                                     if "2026-09-01" <= r["event_date"] <= "2026-10-31"}
    public = approved_points(db, audience="public")
    assert {p.learning_point_id for p in public} == {ids[r["id"]] for r in rows if r["visibility"] == "public"}


def test_a_model_that_answers_garbage_leaves_keyword_labels_and_says_so(stored):
    _, db, index, _, _, _ = stored
    chat = GarbleChat()
    found = find_patterns(db, IndexVectors(index), AGENT, chat=chat)
    assert found.themes
    assert chat.calls == 2 * len(found.themes)  # one retry with the problem, then keywords
    for theme in found.themes:
        assert theme.label_source == "keywords" and "invalid JSON" in theme.label_note
        assert theme.label.lower().startswith(theme.keywords[0])
        assert set(theme.cited_ids) <= set(theme.member_ids)


def test_an_unavailable_model_does_not_fail_pattern_finding(stored):
    class Unavailable:
        model_id = "gone"

        def complete_json(self, messages, schema, max_tokens):
            raise ModelUnavailable("model.unavailable", name="gone", reason="server down")

    _, db, index, _, _, _ = stored
    found = find_patterns(db, IndexVectors(index), AGENT, chat=Unavailable())
    assert found.themes and all(t.label_source == "keywords" and "ModelUnavailable" in t.label_note
                                for t in found.themes)


def test_patterns_need_the_reports_permission(stored):
    _, db, index, _, _, _ = stored
    with pytest.raises(NotAllowed):
        find_patterns(db, IndexVectors(index), Actor(name="sofie", role=Role.staff))


def test_the_index_vectors_are_reused_and_only_missing_points_are_embedded(stored):
    _, db, index, _, _, _ = stored

    class Counting:
        def __init__(self, embedder):
            self.embedder, self.texts = embedder, 0
            self.dimension, self.model_id = embedder.dimension, embedder.model_id

        def embed_passages(self, texts):
            self.texts += len(texts)
            return self.embedder.embed_passages(texts)

    points = approved_points(db)[:10]
    fresh = EmbedderVectors(index.embedder).vectors(points)
    source = IndexVectors(index)
    counting = Counting(index.embedder)
    index.embedder = counting
    try:
        stored_rows = source.vectors(points)
        assert counting.texts == 0
        assert np.allclose(stored_rows, fresh, atol=1e-5)
        index.delete([points[3].learning_point_id])
        again = source.vectors(points)
        assert counting.texts == 1 and np.allclose(again, fresh, atol=1e-5)
    finally:
        index.embedder = counting.embedder
        from assistant.indexing import approved_points as indexable

        index.upsert([p for p in indexable(db) if p.learning_point_id == points[3].learning_point_id])


def test_too_few_points_make_no_themes_and_identical_ones_make_one():
    rng = np.random.default_rng(1)
    assert (cluster_vectors(rng.normal(size=(2, 8))) == -1).all()
    same = np.tile(rng.normal(size=(1, 8)), (5, 1))
    assert cluster_vectors(same).tolist() == [0] * 5


def test_keywords_name_what_sets_a_theme_apart():
    texts = ["Insulin givet to gange", "Forkert insulin dosis", "Faldt om natten", "Fald ved toilettet om natten"]
    keywords = theme_keywords(texts, np.array([0, 0, 1, 1]))
    assert keywords[0][0] == "insulin" and keywords[1][0] == "natten"


def test_clustering_a_thousand_points_takes_seconds(stored, artifacts_dir):
    """Timing on 1,000 vectors made from the synthetic set (the index's vectors plus a little noise)."""
    _, db, index, _, _, _ = stored
    base = IndexVectors(index).vectors(approved_points(db))
    rng = np.random.default_rng(7)
    vectors = np.repeat(base, 14, axis=0)[:1000] + rng.normal(0, 0.01, (1000, base.shape[1])).astype(np.float32)
    started = time.perf_counter()
    labels = cluster_vectors(vectors)
    seconds = time.perf_counter() - started
    (artifacts_dir / "patterns-timing.json").write_text(json.dumps(
        {"points": 1000, "seconds_clustering": round(seconds, 2), "themes": int(labels.max() + 1)}, indent=2))
    print(f"clustered 1,000 points in {seconds:.2f} s into {labels.max() + 1} themes")
    assert seconds < 30


@pytest.mark.real_llm
def test_the_bundled_model_names_a_small_theme_in_danish(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", cpu_threads=2)
    falls = [r for r in synthetic_points() if r["theme"] == "fald"][:4]
    members = [PatternPoint(learning_point_id=r["id"], case_id=r["id"], title=r["title"], text=r["what_happened"],
                            what_happened=r["what_happened"], sector=r["sector"], category=r["category"],
                            day=dt.date.fromisoformat(r["event_date"])) for r in falls]
    started = time.perf_counter()
    name = name_theme(LlamaCppChat(settings), members, ["fald", "faldt", "natten"])
    print(f"real theme label in {time.perf_counter() - started:.1f} s: {name.model_dump()}")
    assert name.source == "llm", name.note
    assert 3 <= len(name.label) <= 60 and "fald" in name.label.lower()
    assert set(name.cited_ids) <= {r["id"] for r in falls}


def test_a_heading_that_only_lists_keywords_is_asked_again():
    class ListsKeywords(LabelChat):
        def complete_json(self, messages, schema, max_tokens):
            self.calls += 1
            self.last_retry = messages[-1].content
            label = "Læge, svar, prøvesvar" if self.calls == 1 else "Prøvesvar der ikke følges op"
            return ChatReply(text=json.dumps({"label": label, "cited": [1]}), finish_reason="stop")

    members = [PatternPoint(learning_point_id=f"p{i}", case_id=f"c{i}", title="Prøvesvar", text="Prøvesvar",
                            what_happened="Svaret blev ikke set.", sector="hospital", category="diagnostik",
                            day=dt.date(2026, 1, i + 1)) for i in range(3)]
    chat = ListsKeywords()
    name = name_theme(chat, members, ["læge", "svar", "prøvesvar"])
    assert chat.calls == 2 and name.label == "Prøvesvar der ikke følges op" and name.cited_ids == ["p0"]
    assert "list of keywords" in chat.last_retry
