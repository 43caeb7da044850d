"""Drafting and chat through an OpenAI-compatible server (llama-cpp-python's, on loopback) with the bundled model.

Same pydantic validation of the structured output as the embedded backend; kept to one short call each.
"""

from __future__ import annotations

import pytest

from assistant.auth import Actor, Role
from assistant.chat import stream_answer
from assistant.drafting import draft_case
from assistant.llm import OpenAICompatibleChat, make_chat_model
from assistant.model_cache import qwen_gguf_path
from assistant.models import CaseContext, IsbarPart, IsbarSection, Sector, Segment
from assistant.settings import Settings
from tests.support.servers import llama_cpp_server
from vectorstore.index import LearningIndex
from vectorstore.schema import IndexedPoint

STAFF = Actor(user_id="s1", name="staff-sofie", role=Role.staff)
SERVED_NAME = "debrief-test-model"


@pytest.fixture(scope="module")
def llm_url():
    with llama_cpp_server(qwen_gguf_path(Settings(cpu_threads=2)), SERVED_NAME, threads=2) as url:
        yield url


@pytest.fixture
def server_settings(llm_url, tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", cpu_threads=2, llm_backend="openai", llm_base_url=llm_url,
                    llm_model=SERVED_NAME, llm_api_key="sk-local", draft_seconds=600.0, llm_call_seconds=600.0)


def test_settings_pick_the_openai_compatible_backend(server_settings):
    assert isinstance(make_chat_model(server_settings), OpenAICompatibleChat)


def test_a_case_is_drafted_through_the_server_into_validated_learning_points(server_settings):
    segments = [
        Segment(index=0, start=0, end=5, text="[PERSON_1] fik insulin to gange, fordi vagtskiftet ikke nævnte dosis."),
        Segment(index=1, start=5, end=9, text="Kollegaen opdagede det ved dobbeltkontrollen, og lægen blev kaldt."),
    ]
    isbar = [IsbarSection(part=p, text=segments[0].text, segment_indices=[0]) for p in IsbarPart]
    chat = make_chat_model(server_settings)
    draft = draft_case(segments, CaseContext(sector=Sector.hospital), chat, server_settings, isbar=isbar)
    assert draft.model_id == SERVED_NAME
    assert 1 <= len(draft.learning_points) and draft.tokens_out > 0
    for point in draft.learning_points:
        assert all(e.segment_index in (0, 1) for e in point.evidence)


def test_an_answer_streams_through_the_server_and_cites_the_retrieved_point(server_settings):
    index = LearningIndex(server_settings)
    index.upsert([IndexedPoint(
        learning_point_id="lp-insulin", case_id="case-1", title="Insulin givet to gange ved vagtskifte",
        text="Insulin givet to gange ved vagtskifte\nPatienten fik dobbelt dosis, fordi vagtskiftet ikke nævnte "
             "den første dosis. Handlinger: dobbeltkontrol og tjekliste ved overlevering.",
        sector="hospital", category="medicin",
    )])
    events = list(stream_answer(index, make_chat_model(server_settings), server_settings, STAFF,
                                "Hvad lærte vi om insulin ved vagtskifte?"))
    assert "".join(e.text_delta for e in events).strip()
    assert events[-1].done and [c.learning_point_id for c in events[-1].citations] == ["lp-insulin"]
