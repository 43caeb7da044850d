"""How fast a cited answer reaches the person asking, with the embedded LLM (`assistant.chat.ask.stream_answer`).

Four moments per answer: the retrieved sources shown, the model's first token, the first cited sentence (answers
stream sentence by sentence after their citations are checked) and the end. The reference, in the same run, is
the same question with the model reading every retrieved point in full (what the chat did before it read only
the nearest few, shortened).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from assistant.auth import Actor, Role
from assistant.bench.results import Figure, PartResult
from assistant.bench.synthetic import DATA
from assistant.chat import stream_answer
from assistant.evaluation import load_points
from assistant.llm import ChatModel, make_chat_model
from assistant.settings import Settings
from vectorstore.index import LearningIndex

QUESTIONS = [
    "Hvad kan vi gøre for at undgå forveksling af insulin ved vagtskifte?",
    "Har andre haft fald om natten hos ældre borgere?",
    "Hvordan er overlevering mellem hospital og hjemmepleje gået galt før?",
]


class _FirstToken:
    """Passes the model's stream through and notes when its first piece arrived."""

    def __init__(self, chat: ChatModel):
        self.chat, self.model_id, self.first_at = chat, chat.model_id, None

    def stream(self, messages, max_tokens: int) -> Iterator[str]:
        for piece in self.chat.stream(messages, max_tokens):
            if self.first_at is None:
                self.first_at = time.perf_counter()
            yield piece


def _answer(index, chat: ChatModel, settings: Settings, question: str) -> dict[str, float | int]:
    actor = Actor(user_id="bench", name="bench", role=Role.staff)
    probe = _FirstToken(chat)
    started = time.perf_counter()
    sources = sentence = None
    cited = 0
    for event in stream_answer(index, probe, settings, actor, question, language="da"):
        now = time.perf_counter() - started
        if sources is None and event.sources:
            sources = now
        if sentence is None and event.text_delta.strip():
            sentence = now
        if event.done:
            cited = len(event.citations)
    total = time.perf_counter() - started
    return {"sources": sources or total, "first_token": (probe.first_at - started) if probe.first_at else total,
            "first_sentence": sentence or total, "total": total, "citations": cited}


def _median(runs: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 3)


def run(settings: Settings, quick: bool, repetitions: int) -> PartResult:
    chat = make_chat_model(settings)
    # The reference reads every retrieved point in full: as many points as are retrieved, no word limit.
    reference = settings.model_copy(update={"answer_points": settings.retrieval_k, "answer_point_words": 10_000})
    questions = QUESTIONS[:1] if quick else QUESTIONS
    with tempfile.TemporaryDirectory() as tmp:
        index = LearningIndex(settings.model_copy(update={"data_dir": Path(tmp)}))
        index.upsert(load_points(DATA))
        if not quick:  # the quick run only checks the output's shape: no warm-up answer
            _answer(index, chat, settings, questions[0])  # warm-up: model load
        ours, ref = [], []
        for _ in range(max(1, repetitions)):
            for question in questions:
                # Alternating settings, so no run finds its whole prompt cached by the run before; only the shared
                # system prompt is, as for anyone asking a second question.
                ref.append(_answer(index, chat, reference, question))
                ours.append(_answer(index, chat, settings, question))

    def figure(key: str, name: str, target: str, limit: float | None) -> Figure:
        value, base = _median(ours, key), _median(ref, key)
        return Figure(part="chat", name=name, value=value, unit="s", reference=base,
                      reference_label=f"s reading all {settings.retrieval_k} points in full",
                      ratio=round(base / value, 2) if value else None, target=target,
                      met=(value <= limit) if limit is not None else None)

    return PartResult(part="chat", figures=[
        figure("sources", "time to sources shown", "", None),
        figure("first_token", "time to the model's first token", "≤ 3 s", 3),
        figure("first_sentence", "time to first cited sentence", "", None),
        figure("total", "total time, cited answer", "≤ 15 s", 15),
    ], details={
        "questions": questions, "model": chat.model_id, "answer_points": settings.answer_points,
        "answer_point_words": settings.answer_point_words, "retrieval_k": settings.retrieval_k,
        "ours": ours, "reference": ref,
        "citations_median": statistics.median(r["citations"] for r in ours),
        "note": "answers stream sentence by sentence after citation checking; sources are listed before the model "
                "starts",
    })
