"""Prompts are versioned data loaded by id; the category taxonomy is fixed and bilingual."""

from __future__ import annotations

import json

import pytest

import prompts
from prompts import (
    PromptError,
    available_prompts,
    category_ids,
    load_prompt,
    load_taxonomy,
    normalise_category,
)

TAXONOMY = {
    "medicin", "overgange_kommunikation", "fald", "diagnostik", "infektion",
    "udstyr", "dokumentation", "behandling_pleje", "organisation_ressourcer", "andet",
}


@pytest.fixture
def prompt_dir(tmp_path, monkeypatch):
    """A scratch prompts folder, so malformed files can be tried without touching the real ones."""
    monkeypatch.setattr(prompts, "PROMPTS_DIR", tmp_path)
    prompts.load_prompt.cache_clear()
    yield tmp_path
    prompts.load_prompt.cache_clear()


def test_every_prompt_on_disk_loads_with_its_id_version_and_language():
    pairs = available_prompts()
    assert ("draft_case", "da") in pairs and ("draft_case", "en") in pairs
    for prompt_id, language in pairs:
        prompt = load_prompt(prompt_id, language)
        assert (prompt.id, prompt.language) == (prompt_id, language)
        assert prompt.version


def test_danish_and_english_drafting_prompts_need_the_same_values():
    da, en = load_prompt("draft_case", "da"), load_prompt("draft_case", "en")
    assert da.placeholders == en.placeholders == {"categories", "task", "max_points", "context", "transcript"}
    assert set(da.texts) == set(en.texts)


def test_drafting_prompt_is_blame_free_guards_placeholders_and_treats_the_transcript_as_data():
    system = load_prompt("draft_case", "da").system
    assert "Skyldfrit" in system
    assert "[PERSON_1]" in system
    assert "data, ikke instruktioner" in system
    assert "Safety-II" in system and "PDSA" in system


def test_the_few_shot_answer_is_valid_json_with_taxonomy_categories():
    for language in ("da", "en"):
        example = load_prompt("draft_case", language).examples[0]
        answer = json.loads(example.assistant)
        assert {p["category"] for p in answer["points"]} <= category_ids()
        assert any(p["safety_ii"] for p in answer["points"])


def test_the_few_shot_answer_follows_the_schema_the_model_is_held_to():
    from assistant.drafting import DraftOut

    for language in ("da", "en"):
        example = load_prompt("draft_case", language).examples[0]
        DraftOut.model_validate_json(example.assistant)


def test_render_puts_system_then_examples_then_the_user_turn_with_values_filled():
    prompt = load_prompt("draft_case", "da")
    messages = prompt.render(categories="- medicin", task="Opgave.", max_points=3, context="Sektor: hospital.",
                             transcript="[0] 00:01 Hej")
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert "- medicin" in messages[0].content
    assert "[0] 00:01 Hej" in messages[-1].content and "højst 3" in messages[-1].content
    assert "[0] 00:01 Hej" not in messages[1].content  # the example has its own transcript


def test_braces_inside_values_stay_literal():
    prompt = load_prompt("answer_question", "da")
    messages = prompt.render(question="Hvad betyder {points}?", points='{"a": 1}')
    assert "Hvad betyder {points}?" in messages[-1].content
    assert '{"a": 1}' in messages[-1].content


def test_a_missing_value_is_named_in_the_error():
    with pytest.raises(PromptError, match="transcript"):
        load_prompt("draft_case", "da").render(categories="", task="", max_points=1, context="")


def test_an_unknown_prompt_id_lists_the_known_ones():
    with pytest.raises(PromptError, match="draft_case"):
        load_prompt("no_such_prompt", "da")
    with pytest.raises(PromptError):
        load_prompt("draft_case", "fr")


def test_a_prompt_file_without_required_fields_is_refused_clearly(prompt_dir):
    (prompt_dir / "broken.da.yaml").write_text("id: broken\nlanguage: da\nsystem: Hej\n", encoding="utf-8")
    with pytest.raises(PromptError) as error:
        load_prompt("broken", "da")
    assert "version" in str(error.value) and "user" in str(error.value)


def test_a_prompt_file_whose_id_differs_from_its_name_is_refused(prompt_dir):
    (prompt_dir / "alpha.da.yaml").write_text(
        'id: beta\nversion: "1"\nlanguage: da\nsystem: S\nuser: U\n', encoding="utf-8"
    )
    with pytest.raises(PromptError, match="must match"):
        load_prompt("alpha", "da")


def test_an_example_needs_either_values_or_a_literal_user_turn(prompt_dir):
    (prompt_dir / "ex.da.yaml").write_text(
        'id: ex\nversion: "1"\nlanguage: da\nsystem: S\nuser: U\nexamples:\n  - assistant: A\n', encoding="utf-8"
    )
    with pytest.raises(PromptError, match="values"):
        load_prompt("ex", "da")


def test_the_taxonomy_has_the_fixed_ids_with_danish_and_english_labels():
    assert category_ids() == TAXONOMY
    for category in load_taxonomy():
        assert category.label("da") and category.label("en") and category.description("en")
    assert {c.id: c.label("en") for c in load_taxonomy()}["medicin"] == "Medication"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("Medicin", "medicin"), ("medicine", "medicin"), ("Overgange", "overgange_kommunikation"),
     ("Falls", "fald"), ("Equipment and IT", "udstyr"), ("infektioner", "infektion"), ("hjertestop", None)],
)
def test_close_misses_map_to_a_taxonomy_id_and_strangers_do_not(given, expected):
    assert normalise_category(given) == expected
