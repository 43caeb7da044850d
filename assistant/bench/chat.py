"""Time to first token and total time of a cited answer from the embedded LLM (`assistant.ask.stream_answer`)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from assistant.ask import stream_answer
from assistant.auth import Actor, Role
from assistant.bench.report import Figure, PartResult
from assistant.bench.synthetic import DATA
from assistant.evaluation.retrieval import load_points
from assistant.llm import make_chat_model
from assistant.settings import Settings
from vectorstore.index import LearningIndex

QUESTION = "Hvad kan vi gøre for at undgå forveksling af insulin ved vagtskifte?"


def run(settings: Settings, quick: bool, repetitions: int) -> PartResult:
    chat = make_chat_model(settings)
    actor = Actor(user_id="bench", name="bench", role=Role.staff)
    with tempfile.TemporaryDirectory() as tmp:
        index = LearningIndex(settings.model_copy(update={"data_dir": Path(tmp)}))
        index.upsert(load_points(DATA))
        firsts, totals, cited = [], [], 0
        for n in range(max(1, repetitions) + 1):  # the first run is the warm-up (model load)
            started = time.perf_counter()
            first = None
            for event in stream_answer(index, chat, settings, actor, QUESTION, language="da"):
                if first is None and event.text_delta.strip():
                    first = time.perf_counter() - started
                if event.done:
                    cited = len(event.citations)
            if n:
                firsts.append(first if first is not None else time.perf_counter() - started)
                totals.append(time.perf_counter() - started)
    ttft, total = sorted(firsts)[len(firsts) // 2], sorted(totals)[len(totals) // 2]
    return PartResult(part="chat", figures=[
        Figure(part="chat", name="time to first cited sentence", value=round(ttft, 2), unit="s", target="≤ 3 s",
               met=ttft <= 3, reference=round(total, 2), reference_label="s total",
               ratio=round(total / ttft, 2) if ttft else None),
        Figure(part="chat", name="total time, cited answer", value=round(total, 2), unit="s", target="≤ 15 s",
               met=total <= 15),
    ], details={"question": QUESTION, "first_s": [round(x, 2) for x in firsts], "total_s": [round(x, 2) for x in totals],
                "citations": cited, "model": chat.model_id,
                "note": "answers stream sentence by sentence: the first event is the first cited sentence"})
