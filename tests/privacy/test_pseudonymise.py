"""Personal data never leaves the pseudonymiser: real Presidio engine, Danish recognisers, shipped word lists."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from assistant.models import PseudonymEntity
from assistant.privacy import Pseudonymiser, evaluate, find_cpr_numbers, load_records
from assistant.settings import Settings

DATASET = Path(__file__).resolve().parents[1] / "data" / "pseudonymisation_da.jsonl"


@pytest.fixture(scope="module")
def pseudonymiser(tmp_path_factory: pytest.TempPathFactory) -> Pseudonymiser:
    # Its own cache folder, so the test also proves the blank Danish pipeline is written and loaded offline.
    cache = tmp_path_factory.mktemp("cache")
    return Pseudonymiser(Settings(data_dir=cache / "data", cache_dir=cache))


@pytest.fixture(scope="module")
def records():
    return load_records(DATASET)


@pytest.fixture(scope="module")
def scores(pseudonymiser, records):
    return evaluate(records, pseudonymiser)


def test_dataset_is_synthetic_labelled_and_large_enough(records):
    assert len(records) >= 60
    assert all(r.synthetic for r in records)
    assert sum(1 for r in records if not r.entities) >= 15
    for r in records:
        for e in r.entities:
            assert r.text[e.start : e.end].strip() == r.text[e.start : e.end] != ""


def test_cpr_recall_is_complete(scores):
    assert scores["CPR"]["fn"] == 0 and scores["CPR"]["tp"] >= 10
    assert scores["CPR"]["recall"] == 1.0


def test_email_and_phone_recall_is_complete(scores):
    assert scores["EMAIL"]["recall"] == 1.0
    assert scores["TELEFON"]["recall"] == 1.0


def test_person_names_are_found_with_few_false_alarms(scores):
    # Measured 1.00 / 1.00 on the set (75 names); the margin allows for list changes, not for regressions.
    assert scores["PERSON"]["recall"] >= 0.93
    assert scores["PERSON"]["precision"] >= 0.93


def test_addresses_are_found(scores):
    assert scores["ADRESSE"]["recall"] >= 0.9
    assert scores["ADRESSE"]["precision"] >= 0.9


def test_cpr_numbers_never_reach_the_llm(pseudonymiser, records):
    texts, _ = pseudonymiser.pseudonymise_many([r.text for r in records])
    assert find_cpr_numbers(" ".join(r.text for r in records))  # the set does contain CPR numbers
    for text in texts:
        assert find_cpr_numbers(text) == []


def test_no_personal_data_sentences_stay_unchanged(pseudonymiser, records):
    clean = [r.text for r in records if not r.entities]
    texts, entities = pseudonymiser.pseudonymise_many(clean)
    assert texts == clean
    assert entities == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("CPR 010190-1234 oplyst", "CPR"),
        ("CPR 0101901234 oplyst", "CPR"),
        ("CPR 010190 1234 oplyst", "CPR"),
        ("CPR 01 01 90 12 34 oplyst", "CPR"),  # read aloud in pairs
        ("ring 12 34 56 78 nu", "TELEFON"),
        ("ring 12345678 nu", "TELEFON"),
        ("ring +45 22 33 44 55 nu", "TELEFON"),
        ("ring 0045 22334455 nu", "TELEFON"),
        ("skriv til a.b-c@sund.dk nu", "EMAIL"),
        ("hun bor på Søndre Allé 4, 1. th., 2300 København S nu", "ADRESSE"),
        ("sygeplejerske Mette sagde", "PERSON"),
        ("Dr. Nielsen sagde", "PERSON"),
        ("vi talte med Jens Hansen om det", "PERSON"),
    ],
)
def test_each_kind_of_personal_data_gets_its_placeholder(pseudonymiser, text, kind):
    result = pseudonymiser.pseudonymise(text)
    assert f"[{kind}_1]" in result.text
    assert [e.entity_type for e in result.entities] == [kind]
    assert result.text.endswith(text.split()[-1])  # the words after the personal data are kept


@pytest.mark.parametrize(
    "text",
    [
        "Dosis 10 mg kl. 0800, ny dosis kl. 1200.",
        "Prøven fra 12.03.2024 kl. 21:15 viste kalium 3,1.",
        "Ugyldig dato 320190-1234 og 011390-1234 er ikke CPR-numre.",
        "Fra 2023 2024 steg antallet af fald.",
        "Patienten lå på stue 12, seng 3.",
    ],
)
def test_numbers_that_are_not_personal_data_are_kept(pseudonymiser, text):
    assert pseudonymiser.pseudonymise(text).text == text


def test_placeholders_are_consistent_within_a_case(pseudonymiser):
    texts, entities = pseudonymiser.pseudonymise_many(
        [
            "Sygeplejerske Mette Kjærsgaard gav Jens Hansen insulin, CPR 010190-1234.",
            "Bagefter sagde Mette, at JENS HANSEN havde fået 0101901234 på armbåndet.",
            "Ring til hende på +45 12 34 56 78 eller 12345678.",
            "Han hed Wierzbicki.",
            "Overlæge Wierzbicki kom kl. 3.",
        ]
    )
    assert texts == [
        "Sygeplejerske [PERSON_1] gav [PERSON_2] insulin, CPR [CPR_1].",
        "Bagefter sagde [PERSON_1], at [PERSON_2] havde fået [CPR_1] på armbåndet.",
        "Ring til hende på [TELEFON_1] eller [TELEFON_1].",
        "Han hed [PERSON_3].",
        "Overlæge [PERSON_3] kom kl. 3.",
    ]
    assert [(e.placeholder, e.original) for e in entities] == [
        ("[PERSON_1]", "Mette Kjærsgaard"),
        ("[PERSON_2]", "Jens Hansen"),
        ("[CPR_1]", "010190-1234"),
        ("[TELEFON_1]", "+45 12 34 56 78"),
        ("[PERSON_3]", "Wierzbicki"),
    ]


def test_numbering_continues_from_known_map(pseudonymiser):
    known = [
        PseudonymEntity(placeholder="[PERSON_1]", entity_type="PERSON", original="Karen Jørgensen"),
        PseudonymEntity(placeholder="[PERSON_2]", entity_type="PERSON", original="Lars Pedersen"),
        PseudonymEntity(placeholder="[TELEFON_1]", entity_type="TELEFON", original="40 50 60 70"),
    ]
    result = pseudonymiser.pseudonymise(
        "Karen ringede fra 40506070 til Ole Madsen på 22 33 44 55.", known=known
    )
    assert result.text == "[PERSON_1] ringede fra [TELEFON_1] til [PERSON_3] på [TELEFON_2]."
    assert result.entities[:3] == known
    assert [e.placeholder for e in result.entities[3:]] == ["[PERSON_3]", "[TELEFON_2]"]


def test_placeholders_already_in_the_text_are_not_detected_again(pseudonymiser):
    text = "[PERSON_1] gav [PERSON_2] medicin; [CPR_1] og [TELEFON_1] står i journalen."
    result = pseudonymiser.pseudonymise(text)
    assert result.text == text
    assert result.entities == []


def test_pseudonymising_twice_changes_nothing_more(pseudonymiser, records):
    texts, entities = pseudonymiser.pseudonymise_many([r.text for r in records[:30]])
    again, entities_again = pseudonymiser.pseudonymise_many(texts, known=entities)
    assert again == texts
    assert entities_again == entities


def test_ambiguous_names_need_more_than_a_capital_letter(pseudonymiser):
    assert pseudonymiser.pseudonymise("Hans mor ringede i går.").text == "Hans mor ringede i går."
    assert pseudonymiser.pseudonymise("Hans Jensen ringede i går.").text == "[PERSON_1] ringede i går."
    assert pseudonymiser.pseudonymise("Vi gav Hans medicinen.").text == "Vi gav [PERSON_1] medicinen."


def test_the_scanner_only_reports_plausible_birth_dates():
    assert find_cpr_numbers("a 010190-1234 b 2902001234 c 300290-1234 d 12345678901 e 12.03.2024") == [
        "010190-1234",
        "2902001234",
    ]


def test_engine_is_built_once_per_settings(pseudonymiser):
    again = Pseudonymiser(pseudonymiser.settings)
    assert again.engine is pseudonymiser.engine
    saved = list(pseudonymiser.settings.models_dir.glob("spacy-blank-da-*/config.cfg"))
    assert len(saved) == 1


def test_dataset_file_is_valid_json_lines():
    for line in DATASET.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        assert set(record) == {"text", "entities", "synthetic"}


def test_personal_data_stays_out_of_the_logs_even_at_debug_level(pseudonymiser, caplog):
    with caplog.at_level(logging.DEBUG):
        out = pseudonymiser.pseudonymise("Karen Holm, CPR 010190-1234, ring 22 33 44 55 eller karen@example.dk.")
    assert "010190-1234" not in out.text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for value in ("010190-1234", "22 33 44 55", "karen@example.dk", "Karen Holm"):
        assert value not in logged


@pytest.mark.parametrize("hex_id", ["3969000570954fd2bc6d3008271422ac",  # 3008271422 in the middle
                                    "0104415848d149b2ace8309067caea5b",  # a valid date at the start
                                    "396a0b612c454b64ab5d1e0510422434"])  # and at the end
def test_digits_inside_a_hex_record_id_are_not_a_cpr_number(pseudonymiser, hex_id):
    assert find_cpr_numbers(hex_id) == [] and find_cpr_numbers(f"punkt `{hex_id}`") == []
    assert pseudonymiser.pseudonymise(f"Se punkt {hex_id}.").text == f"Se punkt {hex_id}."
    assert find_cpr_numbers("CPR 3008271422.") == ["3008271422"]  # the same digits alone still are one
    assert find_cpr_numbers("cpr3008271422") == ["3008271422"]  # glued to a label that is not hex, too
