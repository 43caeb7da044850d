"""The small-model drafting path: lines chosen without the LLM, short answers checked against the lines.

Orchestration runs with a scripted chat; the line labeller and the embedder are real (multilingual-e5, bundled),
and one test drafts a real published case text with the bundled LLM.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from assistant.drafting import copied_fields, draft_case_with_report
from assistant.drafting.cues import load_cues
from assistant.drafting.isbar_lines import label_lines
from assistant.drafting.options import drafting_options
from assistant.drafting.small_model import EXTRACT_WORDS, draft_small
from assistant.errors import DraftInvalid
from assistant.evaluation.drafting import load_records
from assistant.i18n import translate
from assistant.llm import ChatReply, LlamaCppChat
from assistant.models import CaseContext, DraftMethod, IsbarPart, Sector, Segment, Severity
from prompts import category_ids
from vectorstore.embeddings import make_embedder

DATA = Path(__file__).resolve().parents[1] / "data"
CONTEXT = CaseContext(sector=Sector.municipality, unit="Hjemmeplejen")

# A home-care medication event in the words staff use (written for this test, after a published case).
METHOTREXATE = [
    "Det drejer sig om en borger i hjemmeplejen, en 81-årig kvinde med leddegigt.",
    "Hun fik methotrexat hver dag i otte dage i stedet for én gang om ugen.",
    "Doseringsæsken var lavet til hver dag, og ordinationen var uklar i medicinkortet.",
    "Hun blev indlagt med blødning fra munden og døde efter en uge.",
    "Det gik godt, at aftenvagten reagerede hurtigt på, at hun var anderledes.",
    "Fremover skal ugentlig medicin ligge i en særskilt æske med tydelig mærkning.",
]


def segments_of(texts: list[str]) -> list[Segment]:
    return [Segment(index=i, start=0, end=0, text=t) for i, t in enumerate(texts)]


class AnsweringChat:
    """Answers each short question by its JSON field; records every message it was sent."""

    model_id = "answering-llm"

    def __init__(self, delay: float = 0.0, **answers: str):
        self.answers = {"title": "Methotrexat givet dagligt", "action": "Mærk ugentlig medicin tydeligt i æsken",
                        "skade": "ja", "polarity": "gik_galt", "category": "medicin", **answers}
        self.delay = delay
        self.calls: list[list] = []
        self.asked: list[str] = []  # the JSON field of each question, in order

    def complete_json(self, messages, schema, max_tokens) -> ChatReply:
        self.calls.append(messages)
        time.sleep(self.delay)
        field = next(iter(schema["properties"]))
        self.asked.append(field)
        return ChatReply(text=json.dumps({field: self.answers[field]}, ensure_ascii=False), finish_reason="stop",
                         tokens_in=40, tokens_out=8)

    def stream(self, messages, max_tokens):
        yield from ()


@pytest.fixture
def small(settings):
    return settings.model_copy(update={"llm_capability": "small"})


def draft(texts, chat, settings):
    return draft_case_with_report(segments_of(texts), CONTEXT, chat, settings)


def test_a_failure_is_never_drafted_as_what_went_well_and_a_death_as_moderat(small):
    chat = AnsweringChat(skade="nej")  # the model's harm answer is not even asked: "døde" says it
    result, _ = draft(METHOTREXATE, chat, small)
    main, *others = result.learning_points
    assert result.method == DraftMethod.small and not main.safety_ii
    assert main.severity == Severity.fatal
    assert all("methotrexat" not in w.lower() for w in main.what_went_well)
    assert any(p.safety_ii and "aftenvagten" in p.what_happened for p in others)
    assert main.evidence and all(e.quote in METHOTREXATE[e.segment_index] for e in main.evidence)


@pytest.mark.parametrize(("said", "drafted"), [("ja", Severity.moderate), ("nej", Severity.mild)])
def test_harm_no_line_names_is_drafted_low_or_treated_and_left_to_the_reviewer(small, said, drafted):
    texts = ["Borgeren fik sin medicin to timer for sent, fordi ruten var lang.",
             "Vi skal fremover planlægge ruten efter medicintiderne."]
    result, _ = draft(texts, AnsweringChat(skade=said), small)
    main = result.learning_points[0]
    assert main.severity == drafted
    assert "draft.check.severity_unnamed" in [w.key for w in main.warnings]


NO_FAULT = ["Styrelsen for Patientklager gav ikke kritik til et sygehus, der udskrev en ældre kvinde med smerter.",
            "Kvinden blev indlagt med smerter i benet og blev undersøgt for blodprop med en skanning.",
            "Der blev klaget over, at hun ikke blev indlagt længere.",
            "Hun blev udskrevet samme dag med information om, hvornår hun skulle henvende sig igen.",
            "Når en patient udskrives med uafklarede smerter, skal hun have klar besked om symptomerne."]


def test_a_case_an_authority_found_no_fault_in_is_drafted_as_what_went_well(small):
    result, _ = draft(NO_FAULT, AnsweringChat(), small)  # the model would say "gik_galt" and "ja"
    (point,) = result.learning_points
    assert point.safety_ii and point.severity == Severity.none
    assert "gav ikke kritik" in point.what_happened  # the finding, beside the care it judged
    assert "klaget over" not in point.what_happened  # the complaint is what was answered, not what went wrong


PORTER = ["Patienten ventede fire timer på en portør, fordi der kun var én på vagt om natten.",
          "Fremover skal der være to portører om natten."]


def test_a_category_no_word_names_is_chosen_by_the_classifier_without_asking_the_model(small):
    chat = AnsweringChat(category="fald")
    result, _ = draft(PORTER, chat, small)
    assert "category" not in chat.asked
    assert result.learning_points[0].category in category_ids()
    assert "+categoryclassifier" in result.prompt_version


class RenamedEmbedder:
    """The bundled e5 under another name: what the shipped classifier was not trained for."""

    model_id = "another-embedder"

    def __init__(self, real):
        self.real = real

    def embed_queries(self, texts):
        return self.real.embed_queries(texts)

    def embed_passages(self, texts):
        return self.real.embed_passages(texts)


def test_with_an_embedder_the_classifier_does_not_fit_the_model_is_asked_the_category(small):
    options = drafting_options(small)
    chat = AnsweringChat(category="organisation_ressourcer")
    result, _ = draft_small(segments_of(PORTER), CONTEXT, chat, options,
                            embedder=RenamedEmbedder(make_embedder(options.embedding)))
    assert "category" in chat.asked
    assert result.learning_points[0].category == "organisation_ressourcer"
    assert "+categorymodel" in result.prompt_version


def test_harm_in_the_history_is_not_the_events_harm(small):
    texts = ["Det handler om fru Jensen, som var indlagt med et hoftebrud og en infektion.",
             "Hun er 84 år og har haft et lårbensbrud for to år siden.",
             "Aftenmedicinen blev givet to timer for sent, fordi der manglede en sygeplejerske.",
             "Vi opdagede det ved nattevagtens runde, og hun fik ingen gener af det.",
             "Fremover skal aftenmedicinen gives af den, der har patienten."]
    result, _ = draft(texts, AnsweringChat(skade="nej"), small)
    assert result.learning_points[0].severity in (Severity.mild, Severity.none)


def test_a_death_told_in_the_introduction_is_the_events_harm_when_its_lines_name_none(small):
    texts = ["vi er samlet for at tale om forløbet med patienten med sukkersyge der blev indlagt med mavesmerter og "
             "som døde senere under indlæggelsen",
             "patienten kom ind om aftenen og blev set af en yngre læge som var alene i modtagelsen",
             "der gik lang tid før der blev fulgt op på blodprøverne og bagvagten blev ikke ringet op",
             "patienter med sukkersyge og mavesmerter skal have taget blodsukker inden for første time"]
    labels = label_lines(segments_of(texts), make_embedder(drafting_options(small).embedding), load_cues())
    assert labels[0] == IsbarPart.identifikation and IsbarPart.identifikation not in labels[1:3]
    result, _ = draft(texts, AnsweringChat(skade="nej"), small)  # the model would say "mild"
    assert result.learning_points[0].severity == Severity.fatal


def test_a_draft_that_tells_nothing_that_went_well_asks_the_reviewer_for_it(small):
    failure_only, _ = draft(PORTER, AnsweringChat(), small)
    with_success, _ = draft(METHOTREXATE, AnsweringChat(), small)
    assert "draft.check.went_well_none" in [w.key for w in failure_only.warnings]
    assert "draft.check.went_well_none" not in [w.key for w in with_success.warnings]
    assert translate("draft.check.went_well_none", "da").startswith("Udkastet nævner intet, der gik godt")


def test_no_field_repeats_another(small):
    copied = AnsweringChat(title="Hun fik methotrexat hver dag i otte dage i stedet for én gang om ugen")
    result, _ = draft(METHOTREXATE, copied, small)
    assert all(copied_fields(p) == 0 for p in result.learning_points)


def test_a_title_built_from_the_prompts_example_is_replaced_by_the_lines_own_words(small):
    result, _ = draft(METHOTREXATE, AnsweringChat(title="Forveksling af insulinpenne"), small)
    main = result.learning_points[0]
    assert "insulin" not in main.title.lower()
    assert "draft.check.title_unsupported" in [w.key for w in main.warnings]


def test_an_action_the_team_did_not_propose_is_marked_as_the_ais(small):
    texts = METHOTREXATE[:4]
    main = draft(texts, AnsweringChat(), small)[0].learning_points[0]
    assert [a.action for a in main.suggested_actions] == ["Mærk ugentlig medicin tydeligt i æsken"]
    assert "draft.check.action_from_ai" in [w.key for w in main.warnings]


def test_every_question_reads_the_same_system_message_so_the_model_reads_the_lines_once(small):
    chat = AnsweringChat()
    draft(METHOTREXATE, chat, small)
    assert len(chat.calls) >= 2 and len({c[0].content for c in chat.calls}) == 1


def test_a_transcript_longer_than_the_context_is_drafted_from_its_chosen_lines(small):
    talk = [f"og så snakkede vi om vagt nummer {i} hvor der ikke skete noget særligt på afdelingen" for i in range(400)]
    texts = METHOTREXATE[:2] + talk + METHOTREXATE[2:]
    chat = AnsweringChat()
    result, _ = draft(texts, chat, small)
    system = chat.calls[0][0].content
    assert len(system.split()) < EXTRACT_WORDS + 200 and result.learning_points


def test_when_the_time_budget_runs_out_the_draft_is_made_from_the_lines_and_says_so(small):
    slow = small.model_copy(update={"draft_seconds": 5.0})
    started = time.perf_counter()
    result, trace = draft(METHOTREXATE, AnsweringChat(delay=2.0), slow)
    assert time.perf_counter() - started < 15
    assert result.method == DraftMethod.extractive and trace.skipped_calls > 0
    assert "draft.extractive_budget" in [w.key for w in result.warnings]
    assert result.learning_points and all(p.title for p in result.learning_points)


def test_the_rich_path_falls_back_to_the_lines_when_its_time_runs_out(settings):
    strong = settings.model_copy(update={"llm_capability": "strong", "draft_seconds": 1.0})
    result, _ = draft(METHOTREXATE, AnsweringChat(), strong)
    assert result.method == DraftMethod.extractive
    assert "draft.extractive_budget" in [w.key for w in result.warnings]


def test_filler_only_talk_is_refused_with_a_translated_message(small):
    with pytest.raises(DraftInvalid) as refused:
        draft(["øh ja", "okay", "mm altså ja", "nå ja ja"], AnsweringChat(), small)
    assert refused.value.key == "draft.no_content"
    assert "fyldord" in translate(refused.value.key, "da") and "filler" in translate(refused.value.key, "en")


def test_one_line_notes_give_a_minimal_flagged_draft(small):
    result, _ = draft(["Patienten faldt på badeværelset i nat."], AnsweringChat(title="Fald på badeværelset"), small)
    assert len(result.learning_points) == 1
    assert "draft.check.thin_input" in [w.key for w in result.warnings]


def test_notes_in_english_are_drafted_and_flagged(small):
    texts = ["The patient fell out of bed during the night because the bed rail was down.",
             "The night nurse found her on the floor and called the doctor at once."]
    result, _ = draft(texts, AnsweringChat(title="Fall from bed"), small)
    assert result.learning_points and "draft.check.not_danish" in [w.key for w in result.warnings]


def test_lines_are_labelled_with_isbar_parts_by_the_real_embedder(settings):
    texts = ["Det drejer sig om en 84-årig kvinde, indlagt på medicinsk afsnit.",
             "Hun var kendt med demens og havde faldet flere gange tidligere.",
             "Om natten faldt hun ud af sengen og brækkede hoften.",
             "Sengehesten var ikke sat op, fordi vi havde travlt ved vagtskiftet.",
             "Fremover bør faldrisiko vurderes og sengehest tjekkes på aftenrunden.",
             "øh ja okay"]
    labels = label_lines(segments_of(texts), make_embedder(settings), load_cues())
    expected = [IsbarPart.identifikation, IsbarPart.baggrund, IsbarPart.situation, IsbarPart.analyse,
                IsbarPart.raad, None]
    # The trained classifier scores about 0.8 macro-F1 per line on unseen texts, not 1.0: here it reads the
    # advice line as Analyse. Who, what happened and the filler must be right.
    assert sum(a == b for a, b in zip(labels, expected)) >= 5
    assert labels[0] == IsbarPart.identifikation and labels[2] == IsbarPart.situation and labels[-1] is None


@pytest.mark.real_llm
def test_the_bundled_model_drafts_a_published_case_text_in_the_small_path(small):
    record = next(r for r in load_records(DATA / "drafting_real_da.jsonl") if r.id == "real-002")
    started = time.perf_counter()
    result, trace = draft_case_with_report(record.segments, record.context, LlamaCppChat(small), small)
    print(f"small-model draft of {record.id}: {time.perf_counter() - started:.1f} s, {trace.model_dump()}")
    assert result.method == DraftMethod.small and result.learning_points
    main = result.learning_points[0]
    assert not main.safety_ii and main.category in category_ids()
    assert 1 <= len(main.title.split()) <= 12 and copied_fields(main) == 0
    assert trace.calls >= 2 and result.tokens_out > 0
