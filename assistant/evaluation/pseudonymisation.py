"""Pseudonymisation quality per entity type, and CPR numbers that leak into LLM prompts or the index."""

from __future__ import annotations

import tempfile
from pathlib import Path

from assistant.drafting import draft_case
from assistant.errors import DebriefError
from assistant.llm import ChatModel, ChatReply
from assistant.models import CaseContext, Segment
from assistant.privacy import Pseudonymiser, find_cpr_numbers, load_records
from assistant.privacy import evaluate as score_types
from assistant.settings import Settings
from vectorstore.index import LearningIndex
from vectorstore.schema import IndexedPoint


class RecordingChat:
    """Wraps a chat model (or none) and keeps every prompt it was sent; without a model it answers '{}'."""

    def __init__(self, inner: ChatModel | None = None) -> None:
        self.inner = inner
        self.model_id = inner.model_id if inner else "recording"
        self.prompts: list[str] = []

    def complete_json(self, messages, schema, max_tokens) -> ChatReply:
        self.prompts.extend(m.content for m in messages)
        if self.inner:
            return self.inner.complete_json(messages, schema, max_tokens)
        return ChatReply(text="{}", finish_reason="stop")

    def stream(self, messages, max_tokens):
        self.prompts.extend(m.content for m in messages)
        return self.inner.stream(messages, max_tokens) if self.inner else iter(())


def cpr_leaks(texts: list[str], settings: Settings, chat: ChatModel | None = None) -> dict:
    """Pseudonymise ``texts`` as one case, then count CPR numbers in the drafting prompts and the index documents."""
    pseudonymiser = Pseudonymiser(settings)
    cleaned, _ = pseudonymiser.pseudonymise_many(texts)
    recording = RecordingChat(chat)
    segments = [Segment(index=i, start=float(i), end=float(i + 1), text=t) for i, t in enumerate(cleaned)]
    try:
        draft_case(segments, CaseContext(), recording, settings.model_copy(update={"llm_max_retries": 0}))
    except DebriefError:
        pass  # without a real model the draft fails; the prompts it sent are what we scan
    with tempfile.TemporaryDirectory() as tmp:
        index = LearningIndex(settings.model_copy(update={"data_dir": Path(tmp)}))
        index.upsert([IndexedPoint(learning_point_id=f"eval-{i}", case_id="eval", text=t, title=t[:80] or "-",
                                   sector="hospital", category="andet") for i, t in enumerate(cleaned) if t.strip()])
        documents = [p.text + " " + p.title for p in index.get(sorted(index.ids()))]
    return {
        "cpr_in_source": sum(len(find_cpr_numbers(t)) for t in texts),
        "cpr_in_prompts": sum(len(find_cpr_numbers(p)) for p in recording.prompts),
        "cpr_in_index": sum(len(find_cpr_numbers(d)) for d in documents),
        "prompts_scanned": len(recording.prompts), "documents_scanned": len(documents),
        "chat": recording.model_id,
    }


def evaluate(path: Path, settings: Settings, chat: ChatModel | None = None) -> dict:
    """Precision/recall per entity type on annotated sentences, plus the CPR leak counts for the same set."""
    records = load_records(Path(path))
    return {"sentences": len(records), "per_type": score_types(records, Pseudonymiser(settings)),
            "leaks": cpr_leaks([r.text for r in records], settings, chat)}
