"""Danish word search beside e5: stemming, stop words and synonyms, kept in step with Chroma, fused at query time."""

from __future__ import annotations

from pathlib import Path

import pytest

from vectorstore.danish import DanishAnalyser, plain_text, read_synonyms
from vectorstore.errors import EmptyQuery, SynonymFileInvalid
from vectorstore.fusion import FusionWeights, Preferences, case_scores, fuse, ranked
from vectorstore.index import LearningIndex
from vectorstore.schema import IndexedPoint

POINTS = [
    IndexedPoint(learning_point_id="fald-1", case_id="c-fald", title="Fald ud over sengegrinden",
                 text="Fald ud over sengegrinden\nEn konfus patient kravlede over sengegrinden om natten og brækkede "
                      "hoften.", sector="hospital", category="fald"),
    IndexedPoint(learning_point_id="fald-2", case_id="c-fald", title="Ingen faldplan",
                 text="Ingen faldplan\nDer var ingen lav seng eller sengealarm trods høj faldrisiko.",
                 sector="hospital", category="organisation_ressourcer"),
    IndexedPoint(learning_point_id="med-1", case_id="c-med", title="Forbytning af medicin ved spisebordet",
                 text="Forbytning af medicin ved spisebordet\nEn beboer fik en anden beboers tabletter.",
                 sector="municipality", category="medicin"),
    IndexedPoint(learning_point_id="sep-1", case_id="c-sep", title="Sen antibiotika ved blodforgiftning",
                 text="Sen antibiotika ved blodforgiftning\nHøje NEWS-point førte ikke til sepsisalarm.",
                 sector="hospital", category="diagnostik"),
]


@pytest.fixture
def filled(index: LearningIndex) -> LearningIndex:
    index.upsert(POINTS)
    return index


def test_danish_words_are_stemmed_and_stop_words_left_out() -> None:
    analyser = DanishAnalyser()
    assert analyser.terms("Forvekslingen af patienterne") == analyser.terms("forveksling patient")
    assert "har" not in analyser.query_terms("Har vi set noget lignende?")
    assert analyser.query_terms("<p>&nbsp;</p>") == []


def test_a_synonym_in_the_question_adds_the_words_of_its_group() -> None:
    analyser = DanishAnalyser()
    terms = analyser.query_terms("faldt patienten ud over sengehesten?")
    assert set(analyser.terms("sengegrind faldulykke")) <= set(terms)
    assert set(analyser.terms("forbytning")) <= set(analyser.query_terms("forveksling af tabletter"))


@pytest.mark.parametrize("line, reason", [("sengehest", "two different"), ("sengehest,, sengegrind", "empty"),
                                          ("sengehest; sengegrind", "not a word"), ("Fald, fald", "two different")])
def test_a_bad_synonym_line_fails_at_start_naming_file_and_line(tmp_path: Path, settings, line, reason) -> None:
    bad = tmp_path / "synonymer.txt"
    bad.write_text(f"# egne synonymer\nforveksling, forbytning\n{line}\n", "utf-8")
    with pytest.raises(SynonymFileInvalid) as caught:
        read_synonyms(bad)
    assert caught.value.params["file"] == str(bad) and caught.value.params["line"] == 3
    assert reason in caught.value.params["reason"]
    with pytest.raises(SynonymFileInvalid):
        LearningIndex(settings.model_copy(update={"synonyms_file": bad}))


def test_shipped_synonym_list_reads() -> None:
    groups = read_synonyms()
    assert ("sengehest", "sengegrind", "sengeheste") in groups and all(len(g) >= 2 for g in groups)


def test_word_index_follows_every_write_to_chroma(filled: LearningIndex) -> None:
    assert filled.sparse.ids() == filled.ids() == {p.learning_point_id for p in POINTS}
    filled.delete(["sep-1"])
    filled.delete_case("c-fald")
    assert filled.sparse.ids() == filled.ids() == {"med-1"}
    filled.reset()
    assert filled.sparse.ids() == filled.ids() == set()


def test_word_index_is_refilled_from_chroma_when_the_two_disagree(filled: LearningIndex, settings) -> None:
    filled.sparse.reset()  # e.g. an index made before the word index existed
    reopened = LearningIndex(settings)
    assert reopened.sparse.ids() == reopened.ids() == {p.learning_point_id for p in POINTS}


def test_a_synonym_finds_the_case_that_uses_the_other_word(filled: LearningIndex) -> None:
    assert filled.sparse.search("sengehest")[0][0] == "fald-1"
    assert [pid for pid, _ in filled.sparse.search("forveksling")] == ["med-1"]
    hits = filled.search("patient faldt ud over sengehesten", k=2)
    assert hits[0].learning_point_id == "fald-1" and hits[0].relevance and 0 < hits[0].score <= 1


def test_similar_cases_put_a_cases_points_together(filled: LearningIndex) -> None:
    cases = filled.similar_cases("fald om natten, ingen sengealarm", k=2)
    assert cases[0].case_id == "c-fald" and {h.learning_point_id for h in cases[0].points} == {"fald-1", "fald-2"}


def test_preferred_sector_moves_up_without_hiding_the_rest(filled: LearningIndex, monkeypatch) -> None:
    plain = filled.search("fejl", k=4)
    strong = filled.options.fusion.model_copy(update={"boost": 1.0})
    monkeypatch.setattr(filled, "options", filled.options.model_copy(update={"fusion": strong}))
    preferred = filled.search("fejl", k=4, preferences=Preferences(sectors={"municipality"}))
    assert preferred[0].sector == "municipality" and len(preferred) == len(plain)


@pytest.mark.parametrize("query", ["sengehest", " ".join(["patienten faldt om natten"] * 1250),
                                   "the patient fell out of bed at night", "Pasienten falt ut av sengen",
                                   "<div><b>fald</b></div>"])
def test_odd_questions_give_a_sensible_result(filled: LearningIndex, query: str) -> None:
    hits = filled.search(query, k=3)
    assert len(hits) == 3 and hits[0].rank == 1


@pytest.mark.parametrize("query", ["", "   ", "<p></p>", "&nbsp; <br/>", "?!"])
def test_questions_without_words_are_refused_clearly(filled: LearningIndex, query: str) -> None:
    with pytest.raises(EmptyQuery) as caught:
        filled.search(query)
    assert caught.value.key == "index.empty_query"


def test_fusion_rewards_points_both_rankings_agree_on_and_cases_with_two_matches() -> None:
    weights = FusionWeights(rrf_k=5, dense=1.0, sparse=0.6, case_extra=0.3)
    scores = fuse(["a", "b", "c"], ["c", "b"], weights)
    assert ranked(scores)[0] == "b" and set(scores) == {"a", "b", "c"}
    cases = case_scores({"a1": 0.2, "a2": 0.1, "b1": 0.21}, lambda pid: pid[0], weights)
    assert ranked(cases) == ["a", "b"]
    assert plain_text("<b>fald</b>&amp;seng") == "fald seng"
