"""Tiny stand-ins for the external models, for tests of orchestration only (each real model has real tests)."""

from __future__ import annotations

import re
import time
from pathlib import Path

from assistant.models import (
    Draft,
    Evidence,
    IsbarPart,
    IsbarSection,
    LearningPointDraft,
    PseudonymEntity,
    Segment,
    Severity,
    Transcript,
)


class FakeTranscriber:
    """Returns fixed segments for any audio, reporting progress like the real one."""

    model_id = "fake-transcriber"

    def __init__(self, texts: list[str] | None = None):
        self.texts = texts or ["Patienten Jens fik insulin.", "Vi opdagede fejlen ved vagtskiftet.", "Det gik godt at vi talte sammen."]
        self.calls = 0

    def transcribe(self, audio: Path, progress=None) -> Transcript:
        self.calls += 1
        segments = [Segment(index=i, start=i * 2.0, end=i * 2.0 + 2.0, text=t) for i, t in enumerate(self.texts)]
        if progress:
            progress(1.0)
        return Transcript(segments=segments, language="da", duration=len(segments) * 2.0, model_id=self.model_id)


class FakePseudonymiser:
    """Replaces the capitalised names it is told about; enough to follow placeholders through the pipeline."""

    def __init__(self, names: tuple[str, ...] = ("Jens", "Mette")):
        self.names = names

    def pseudonymise_many(self, texts, known=None):
        entities = list(known or [])
        by_original = {e.original: e.placeholder for e in entities}
        out = []
        for text in texts:
            for name in self.names:
                if re.search(rf"\b{name}\b", text):
                    if name not in by_original:
                        placeholder = f"[PERSON_{len(by_original) + 1}]"
                        by_original[name] = placeholder
                        entities.append(PseudonymEntity(placeholder=placeholder, entity_type="PERSON", original=name))
                    text = re.sub(rf"\b{name}\b", by_original[name], text)
            out.append(text)
        return out, entities


def fake_draft(segments, context, chat, settings, *, isbar=None, progress=None) -> Draft:
    """A deterministic draft citing the first segment; optionally slow, to let tests kill a worker mid-draft."""
    delay = getattr(chat, "delay", 0)
    if delay:
        time.sleep(delay)
    sections = isbar or [IsbarSection(part=p, text=segments[0].text, segment_indices=[0]) for p in IsbarPart]
    point = LearningPointDraft(
        title="Dobbeltkontrol af insulin ved vagtskifte",
        what_happened=segments[0].text,
        contributing_factors=["travlhed ved vagtskifte"],
        what_went_well=["åben snak i teamet"],
        category="medicin",
        severity=Severity.mild,
        evidence=[Evidence(segment_index=0, quote=segments[0].text[:20])],
    )
    return Draft(isbar=sections, learning_points=[point], prompt_id="fake", prompt_version="0", model_id="fake-llm")


class FakeChat:
    model_id = "fake-llm"

    def __init__(self, delay: float = 0):
        self.delay = delay
