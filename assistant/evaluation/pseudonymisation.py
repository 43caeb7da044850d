"""Pseudonymisation quality per entity type, and CPR numbers that leak into LLM prompts or the index."""

from __future__ import annotations

import tempfile
from pathlib import Path

from assistant.drafting import draft_case
from assistant.errors import DebriefError
from assistant.llm import ChatModel, ChatReply
from assistant.models import CaseContext, Segment
from assistant.privacy import (
    VERSIONS,
    Pseudonymiser,
    RecogniserVersion,
    dev_and_held_out,
    find_cpr_numbers,
    load_records,
    negatives_altered,
    recall_by_form,
)
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


def cpr_leaks(texts: list[str], settings: Settings, chat: ChatModel | None = None,
              version: RecogniserVersion = "speech") -> dict:
    """Pseudonymise ``texts`` as one case, then count CPR numbers in the drafting prompts and the index documents.

    Spoken CPR numbers count as leaks; ``*_digits_only`` is what the older check (digits alone) would have said.
    """
    pseudonymiser = Pseudonymiser(settings, version)
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
        "cpr_in_prompts_digits_only": sum(len(find_cpr_numbers(p, spoken=False)) for p in recording.prompts),
        "cpr_in_index_digits_only": sum(len(find_cpr_numbers(d, spoken=False)) for d in documents),
        "prompts_scanned": len(recording.prompts), "documents_scanned": len(documents),
        "chat": recording.model_id,
    }


def _scores(records: list, pseudonymiser: Pseudonymiser) -> dict:
    dev, held_out = dev_and_held_out(records)
    return {"per_type": score_types(records, pseudonymiser), "per_form": recall_by_form(records, pseudonymiser),
            "negatives_altered": negatives_altered(records, pseudonymiser),
            "dev": score_types(dev, pseudonymiser), "held_out": score_types(held_out, pseudonymiser)}


def evaluate(path: Path, settings: Settings, chat: ChatModel | None = None) -> dict:
    """Precision/recall per entity type on annotated sentences, plus the CPR leak counts for the same set.

    The top-level figures are the current ("speech") recognisers; ``versions`` holds them and the older
    ("baseline") ones side by side, each also on the development and held-out parts (every fourth record is dev).
    """
    records = load_records(Path(path))
    texts = [r.text for r in records]
    versions = {}
    for version in VERSIONS:
        pseudonymiser = Pseudonymiser(settings, version)
        versions[version] = _scores(records, pseudonymiser) | {"leaks": cpr_leaks(texts, settings, chat, version)}
    current = versions["speech"]
    return {"sentences": len(records), "per_type": current["per_type"], "leaks": current["leaks"],
            "versions": versions}
