"""Conversation guides: shipped guides are complete and bilingual, broken guides fail clearly, notes reach ISBAR."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

import guides
from guides import (
    ISBAR_PARTS,
    GuideError,
    GuideInvalid,
    GuideNotFound,
    LocalText,
    isbar_label,
    list_guides,
    load_guide,
    load_guide_file,
    load_principles,
    notes_to_isbar,
    notes_to_text,
    phase_notes,
)

SHIPPED = {"hot_debrief", "isbar_handover", "positive_event"}


def shipped_data(guide_id: str) -> dict[str, Any]:
    return yaml.safe_load((guides.GUIDES_DIR / f"{guide_id}.yaml").read_text(encoding="utf-8"))


def write_guide(folder: Path, data: dict[str, Any], name: str | None = None) -> Path:
    path = folder / f"{name or data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def local_texts(value: Any) -> list[LocalText]:
    """Every LocalText inside a model, found by walking its fields."""
    if isinstance(value, LocalText):
        return [value]
    if isinstance(value, list | tuple):
        return [t for item in value for t in local_texts(item)]
    if hasattr(value, "__class__") and hasattr(type(value), "model_fields"):
        return [t for name in type(value).model_fields for t in local_texts(getattr(value, name))]
    return []


# --- shipped content ---------------------------------------------------------------------------------------------


def test_every_shipped_guide_validates_and_loads_by_id():
    found = {g.id: g for g in list_guides()}
    assert set(found) == SHIPPED
    for guide_id in SHIPPED:
        assert load_guide(guide_id) == found[guide_id]
        assert found[guide_id].principles, f"{guide_id} shows no blame-free principles"


def test_every_text_has_danish_and_english():
    texts = [t for g in list_guides() for t in local_texts(g)] + local_texts(list(load_principles()))
    assert len(texts) > 150
    missing = [t.da for t in texts if not t.en.strip()]
    assert missing == []


def test_danish_isbar_words_are_used_not_translations():
    assert [isbar_label(p, "da") for p in ISBAR_PARTS] == ["Identifikation", "Situation", "Baggrund", "Analyse", "Råd"]
    english_words = ("Recommendation", "Background", "Assessment", "Identification", "Anbefaling")
    danish = [t.da for g in list_guides() for t in local_texts(g)]
    assert [text for text in danish if any(word in text for word in english_words)] == []


def test_isbar_part_ids_match_the_assistant_models():
    from assistant.models import IsbarPart

    assert [part.value for part in IsbarPart] == list(ISBAR_PARTS)


def test_hot_debrief_phases_each_carry_questions_tips_and_reminders():
    guide = load_guide("hot_debrief")
    assert guide.kind == "debrief"
    for phase in guide.phases:
        assert 3 <= len(phase.questions) <= 6, phase.id
        assert phase.tips and phase.reminders, phase.id
    # Safety-II: what went well comes before what could go better.
    ids = [p.id for p in guide.phases]
    assert ids.index("hvad_gik_godt") < ids.index("hvad_kunne_gaa_bedre")


def test_hot_debrief_notes_can_fill_every_isbar_part():
    mapped = {p.isbar_part for p in load_guide("hot_debrief").phases}
    assert set(ISBAR_PARTS) <= mapped


def test_handover_guide_has_one_phase_per_isbar_part_with_what_good_looks_like():
    guide = load_guide("isbar_handover")
    assert tuple(p.isbar_part for p in guide.phases) == ISBAR_PARTS
    assert all(p.good_looks_like for p in guide.phases)


def test_principles_include_systems_not_scapegoats_and_no_names():
    texts = [p.text.da for p in load_principles()]
    assert "Vi leder efter systemer, ikke syndebukke." in texts
    assert any("Ingen navne" in t for t in texts)


# --- broken guides fail clearly -----------------------------------------------------------------------------------


def test_missing_field_fails_with_message_naming_file_and_field(tmp_path):
    data = shipped_data("hot_debrief")
    del data["phases"][2]["questions"]
    path = write_guide(tmp_path, data)
    with pytest.raises(GuideInvalid) as caught:
        load_guide_file(path)
    message = str(caught.value)
    assert message.startswith("hot_debrief.yaml: phases.2 (forhold_og_baggrund).questions: feltet mangler")
    assert "Field required" in message
    assert caught.value.path == path


def test_empty_question_list_is_rejected_in_danish_and_english(tmp_path):
    data = shipped_data("hot_debrief")
    data["phases"][0]["questions"] = []
    expected = r"phases\.0 \(ramme_og_tryghed\)\.questions: mindst ét spørgsmål kræves / "
    with pytest.raises(GuideInvalid, match=expected):
        load_guide_file(write_guide(tmp_path, data))


def test_text_without_danish_is_rejected(tmp_path):
    data = shipped_data("positive_event")
    data["title"] = {"en": "Only English"}
    with pytest.raises(GuideInvalid, match=r"title\.da: feltet mangler"):
        load_guide_file(write_guide(tmp_path, data))


def test_every_problem_in_a_file_is_reported_at_once(tmp_path):
    data = shipped_data("positive_event")
    data["phases"][1]["minutes"] = 0
    data["phases"][1]["isbar_part"] = "recommendation"
    data["kind"] = "meeting"
    with pytest.raises(GuideInvalid) as caught:
        load_guide_file(write_guide(tmp_path, data))
    assert len(caught.value.errors) == 3
    assert "phases.1 (hvad_lykkedes).minutes: tallet er for lille" in str(caught.value)


def test_duplicate_phase_ids_are_rejected(tmp_path):
    data = shipped_data("hot_debrief")
    data["phases"].append(copy.deepcopy(data["phases"][1]))
    with pytest.raises(GuideInvalid, match="hvad_skete_der"):
        load_guide_file(write_guide(tmp_path, data))


def test_guide_id_must_match_file_name(tmp_path):
    with pytest.raises(GuideInvalid, match="filnavnet"):
        load_guide_file(write_guide(tmp_path, shipped_data("positive_event"), name="copy_of_positive"))


def test_guide_without_principles_shows_all_of_them(tmp_path):
    data = shipped_data("positive_event")
    del data["principles"]
    assert load_guide_file(write_guide(tmp_path, data)).principles == list(load_principles())


def test_unknown_principle_is_rejected(tmp_path):
    data = shipped_data("positive_event")
    data["principles"] = ["ingen_navne", "find_den_skyldige"]
    with pytest.raises(GuideInvalid, match="principles: ukendt princip 'find_den_skyldige'"):
        load_guide_file(write_guide(tmp_path, data))


def test_handover_guide_must_follow_isbar_order(tmp_path):
    data = shipped_data("isbar_handover")
    data["phases"][1], data["phases"][2] = data["phases"][2], data["phases"][1]
    with pytest.raises(GuideInvalid, match="rækkefølgen"):
        load_guide_file(write_guide(tmp_path, data))


def test_malformed_yaml_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("id: broken\nphases: [\n", encoding="utf-8")
    with pytest.raises(GuideInvalid, match=r"^broken\.yaml: ikke gyldig YAML"):
        load_guide_file(path)


def test_unknown_guide_names_the_known_ones():
    with pytest.raises(GuideNotFound, match="hot_debrief"):
        load_guide("cold_debrief")


# --- a site adds a guide without code -----------------------------------------------------------------------------


def test_site_folder_adds_a_guide_and_replaces_a_shipped_one(tmp_path):
    own = shipped_data("positive_event")
    own.update(id="kort_tjek", version=2, title={"da": "Kort tjek efter vagten", "en": "Short check after the shift"})
    write_guide(tmp_path, own)
    replaced = shipped_data("hot_debrief")
    replaced["version"] = "1-region"
    write_guide(tmp_path, replaced)

    found = {g.id: g for g in list_guides(extra_dir=tmp_path)}
    assert set(found) == SHIPPED | {"kort_tjek"}
    assert found["kort_tjek"].version == "2"
    assert load_guide("hot_debrief", extra_dir=tmp_path).version == "1-region"
    assert load_guide("hot_debrief").version == "1"


# --- notes to ISBAR and to text -------------------------------------------------------------------------------------

NOTES = {
    "ramme_og_tryghed": "Sygeplejerske 1, sygeplejerske 2 og vagtlægen. Medicinfejl på medicinsk afsnit, nattevagt.",
    "hvad_skete_der": "Patienten fik dobbelt dosis insulin kl. 22.",
    "hvad_gik_godt": "Blodsukker blev målt tidligt; vagtlægen kom efter 10 minutter.",
    "hvad_kunne_gaa_bedre": "To ens pakninger stod side om side.",
    "laering_og_handlinger": "Adskil insulinpakninger i medicinrummet.",
    "afslutning": "Afdelingssygeplejersken følger op fredag.",
    "forhold_og_baggrund": "   ",
}


def test_notes_map_to_isbar_parts_in_phase_order():
    isbar = notes_to_isbar(load_guide("hot_debrief"), NOTES)
    assert list(isbar) == list(ISBAR_PARTS)
    assert isbar["identifikation"] == NOTES["ramme_og_tryghed"]
    assert isbar["situation"] == NOTES["hvad_skete_der"]
    assert isbar["baggrund"] == ""  # blank notes are dropped, not sent as whitespace
    assert isbar["analyse"] == f"{NOTES['hvad_gik_godt']}\n\n{NOTES['hvad_kunne_gaa_bedre']}"


def test_closing_round_notes_are_appended_to_raad():
    isbar = notes_to_isbar(load_guide("hot_debrief"), NOTES)
    assert isbar["raad"] == f"{NOTES['laering_og_handlinger']}\n\n{NOTES['afslutning']}"
    only_closing = notes_to_isbar(load_guide("hot_debrief"), {"afslutning": "Opfølgning fredag."})
    assert only_closing["raad"] == "Opfølgning fredag."


def test_phase_notes_keep_order_and_give_each_note_its_isbar_part():
    notes = phase_notes(load_guide("hot_debrief"), NOTES)
    assert [part for _, part in notes] == ["identifikation", "situation", "analyse", "analyse", "raad", "raad"]
    assert notes[0][0] == NOTES["ramme_og_tryghed"]


def test_misspelt_phase_id_raises_instead_of_losing_notes():
    with pytest.raises(GuideError, match="hvad_gik_godtt"):
        notes_to_isbar(load_guide("hot_debrief"), {"hvad_gik_godtt": "Tidlig tilkald."})


def test_notes_to_text_has_numbered_phase_headings_in_the_chosen_language():
    guide = load_guide("hot_debrief")
    danish = notes_to_text(guide, NOTES, "da")
    assert danish.startswith("Hot debriefing efter en utilsigtet hændelse (hot_debrief v1)")
    assert "4. Hvad gik godt? [Analyse]\n" in danish
    assert "6. Læring og handlinger [Råd]\n" in danish
    assert "Forhold og baggrund" not in danish  # phases without notes are left out
    assert danish.index(NOTES["hvad_skete_der"]) < danish.index(NOTES["hvad_gik_godt"])
    english = notes_to_text(guide, NOTES, "en")
    assert "4. What went well? [Assessment]\n" in english
    assert NOTES["afslutning"] in english


def test_english_falls_back_to_danish_when_a_site_guide_has_only_danish():
    text = LocalText(da="Hvad skete der?")
    assert text.get("en") == "Hvad skete der?"
    assert LocalText(da="Hvad skete der?", en="What happened?").get("en") == "What happened?"
