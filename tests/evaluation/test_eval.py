"""`debrief eval` runs on the shipped Danish sets and writes well-formed JSON; its scoring helpers behave."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.evaluation import cpr_leaks, evidence_validity, load_records, rrf
from assistant.evaluation.drafting import DraftingRecord, predicted_labels, score_points
from assistant.models import Draft, Evidence, IsbarPart, IsbarSection, LearningPointDraft, Segment
from tests.vectorstore.test_vectorstore import DATA


def _eval(settings, tmp_path, monkeypatch, *args: str) -> dict:
    monkeypatch.setattr("assistant.cli.measure.get_settings", lambda: settings)
    out = tmp_path / "eval.json"
    done = CliRunner().invoke(app, ["eval", *args, "--output", str(out)])
    assert done.exit_code == 0, done.output
    result = json.loads(out.read_text("utf-8"))
    for part, data in result["parts"].items():
        assert "error" not in data, (part, data.get("traceback"))
    return result["parts"]


def test_eval_without_llm_scores_asr_pseudonymisation_retrieval_and_checks_the_drafting_set(
        settings, tmp_path, monkeypatch):
    # A few failure modes of the realistic similar-case set keep this test fast; the whole set is scored by
    # tests/evaluation/test_similar_cases_set.py's shape checks and by `debrief eval` itself.
    small = tmp_path / "similar.jsonl"
    lines = (DATA / "retrieval_real_da.jsonl").read_text("utf-8").splitlines()
    small.write_text("\n".join(line for line in lines if '"overset_testikeltorsion"' in line
                                 or '"insulinfejl"' in line or '"off-0' in line) + "\n", "utf-8")
    parts = _eval(settings, tmp_path, monkeypatch, "--skip-llm", "--asr-limit", "2", "--retrieval-set", str(small))
    asr = parts["asr"]
    assert len(asr["files"]) == 2 and all(f["generated_audio"] for f in asr["files"])
    assert 0 <= asr["pooled"]["cer"] and all(f["hypothesis"] is not None for f in asr["files"])
    pseudo = parts["pseudonymisation"]
    assert pseudo["per_type"]["CPR"]["tp"] >= 1 and 0 <= pseudo["per_type"]["PERSON"]["recall"] <= 1
    assert pseudo["leaks"]["cpr_in_source"] > 0 and pseudo["leaks"]["prompts_scanned"] > 0
    assert pseudo["leaks"]["cpr_in_prompts"] == 0 and pseudo["leaks"]["cpr_in_index"] == 0
    drafting = parts["drafting"]
    assert drafting["records"] >= 40 and drafting["real_records"] >= 20 and "skipped" in drafting
    assert set(drafting["styles"]) == {"formal", "staff", "spoken"}
    methods = parts["retrieval"]["methods"]
    assert set(methods) == {"dense (e5)", "bm25", "hybrid (rrf)", "danish hybrid (search)"}
    assert all(0 <= m["mrr"] <= 1 and 0 <= m["ndcg@10"] <= 1 for m in methods.values())
    similar = parts["retrieval"]["similar_cases"]
    assert similar["scored_cases"] == 6 and similar["off_topic"] == 9
    for method in ("dense", "hybrid", "new"):
        figures = similar["summary"]["all"][method]
        assert all(0 <= figures[form]["recall@5"] <= 1 for form in ("question", "opening", "title"))
        assert 0 <= figures["threshold"]["off_topic_with_hit"] <= 1



def test_a_cpr_number_left_in_the_text_is_counted_as_a_leak(settings, monkeypatch):
    class KeepsEverything:
        def pseudonymise_many(self, texts, known=None):
            return list(texts), []

    monkeypatch.setattr("assistant.evaluation.pseudonymisation.Pseudonymiser", lambda s, version="speech": KeepsEverything())
    leaks = cpr_leaks(["Patienten har CPR 010190-1234 og blev flyttet."], settings)
    assert leaks["cpr_in_prompts"] >= 1 and leaks["cpr_in_index"] >= 1


def test_reciprocal_rank_fusion_rewards_ids_both_rankings_agree_on():
    assert rrf(["a", "b", "c"], ["b", "c", "a"])[0] == "b"
    assert set(rrf(["a"], ["z"])) == {"a", "z"}


def test_evidence_is_valid_only_when_the_segment_exists_and_contains_the_quote():
    segments = [Segment(index=0, start=0, end=5, text="Pennene lå i samme skuffe.")]
    point = LearningPointDraft(title="Insulin", what_happened="Forveksling", category="medicin", evidence=[
        Evidence(segment_index=0, quote="lå i samme skuffe"), Evidence(segment_index=0, quote="i to skuffer"),
        Evidence(segment_index=7, quote="Pennene")])
    draft = Draft(isbar=[], learning_points=[point], prompt_id="p", prompt_version="1", model_id="m")
    assert evidence_validity(draft, segments) == (1, 3)


def test_shipped_drafting_set_is_synthetic_danish_with_reference_points():
    records = load_records(DATA / "drafting_da.jsonl")
    assert len(records) >= 2 and all(r.synthetic and r.reference_points for r in records)


@pytest.mark.parametrize("name, least", [("drafting_real_da.jsonl", 40), ("drafting_fresh_da.jsonl", 20),
                                         ("drafting_fresh2_da.jsonl", 20), ("drafting_fresh3_da.jsonl", 20),
                                         ("drafting_fresh4_da.jsonl", 20),
                                         ("drafting_fresh5_da.jsonl", 20),
                                         ("drafting_fresh6_da.jsonl", 16),
                                         ("drafting_fresh7_da.jsonl", 20)])
def test_the_realistic_drafting_sets_have_sources_licences_and_a_gold_label_per_line(name, least):
    records = load_records(DATA / name)
    assert len(records) >= least and {r.style for r in records} == {"formal", "staff", "spoken"}
    for r in records:
        assert r.source_url and r.source_url.startswith("https://") and r.licence, r.id
        assert r.isbar_labels and len(r.isbar_labels) == len(r.segments), r.id
        assert set(r.isbar_labels) <= {"identifikation", "situation", "baggrund", "analyse", "raad", "none"}, r.id
        assert 1 <= len(r.reference_points) <= 3 and all(p.severity for p in r.reference_points), r.id
    spoken = [r for r in records if r.style == "spoken"]
    assert all(r.synthetic for r in spoken) and any(r.words >= 800 for r in spoken)
    assert any(p.polarity == "went_well" for r in records for p in r.reference_points)


def test_drafted_lines_get_the_first_isbar_part_that_cites_them_and_no_part_otherwise():
    segments = [Segment(index=i, start=0, end=0, text=f"linje {i}") for i in range(4)]
    isbar = [IsbarSection(part=IsbarPart.raad, text="", segment_indices=[1]),
             IsbarSection(part=IsbarPart.situation, text="", segment_indices=[0, 1])]
    draft = Draft(isbar=isbar, learning_points=[], prompt_id="p", prompt_version="1", model_id="m")
    assert predicted_labels(draft, segments) == ["situation", "situation", "none", "none"]


def test_a_safety_ii_point_whose_nearest_reference_went_wrong_is_a_polarity_error(settings):
    from vectorstore.embeddings import make_embedder

    record = DraftingRecord(id="x", segments=[Segment(index=0, start=0, end=0, text="Patienten faldt.")],
                            reference_points=[{"text": "Fald fra seng uden sengehest. Patienten faldt om natten.",
                                               "polarity": "went_wrong", "severity": "moderat"}])
    wrong = LearningPointDraft(title="Fald fra seng uden sengehest", what_happened="Patienten faldt om natten.",
                               category="fald", safety_ii=True, severity="doedelig")
    draft = Draft(isbar=[], learning_points=[wrong], prompt_id="p", prompt_version="1", model_id="m")
    scored = score_points(draft, record, make_embedder(settings))
    assert scored["covered"] == 1 and scored["polarity_errors"] == 1 and scored["severity_off"] == 1
    # each point's harm is kept as levels only (no text), so misses can be counted by kind without reading the set
    assert scored["harm"] == [{"drafted": "doedelig", "reference": "moderat", "asked": False, "went_well": True,
                               "nearest_went_well": False}]


def test_what_went_well_drafted_as_a_failure_is_counted_as_not_found(settings):
    from vectorstore.embeddings import make_embedder

    record = DraftingRecord(id="x", segments=[Segment(index=0, start=0, end=0, text="Vagtlægen spurgte grundigt.")],
                            reference_points=[{"text": "Grundig telefonisk afklaring. Vagtlægen spurgte ind til "
                                                       "smerter, feber og opkast.", "polarity": "went_well"}])
    told = {"title": "Grundig telefonisk afklaring", "what_happened": "Vagtlægen spurgte ind til smerter, feber og "
                                                                      "opkast.", "category": "diagnostik"}
    embedder = make_embedder(settings)
    as_failure = Draft(isbar=[], learning_points=[LearningPointDraft(**told, safety_ii=False)], prompt_id="p",
                       prompt_version="1", model_id="m")
    as_success = Draft(isbar=[], learning_points=[LearningPointDraft(**told, safety_ii=True)], prompt_id="p",
                       prompt_version="1", model_id="m")
    assert score_points(as_failure, record, embedder)["went_well_found"] == 0  # not a polarity error, but missed
    assert score_points(as_success, record, embedder)["went_well_found"] == 1
    assert score_points(as_success, record, embedder)["went_well_references"] == 1
