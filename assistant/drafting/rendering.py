"""How a case is shown to the model: numbered transcript lines, the case context, the category list, and
chunks of a long transcript split on segment boundaries."""

from __future__ import annotations

import logging
import math

from assistant.models import (
    CaseContext,
    Segment,
)
from assistant.speech.speakers import speaker_label
from prompts import Prompt, load_taxonomy

log = logging.getLogger(__name__)

def _clock(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def data_text(text: str) -> str:
    # Segments are data: they must not be able to close the data block or open a tag of their own.
    return " ".join(text.replace("<", "‹").replace(">", "›").split())


def render_transcript(segments: list[Segment]) -> str:
    """Numbered lines ``[7] 03:15 text`` so the model can cite segments; typed notes have no times."""
    lines = []
    for s in segments:
        timed = s.end > 0 or s.start > 0
        prefix = f"[{s.index}] {_clock(s.start)} " if timed else f"[{s.index}] "
        speaker = f"{data_text(speaker_label(s.speaker))}: " if s.speaker else ""
        lines.append(prefix + speaker + data_text(s.text))
    return "\n".join(lines)


def render_context(context: CaseContext, prompt: Prompt) -> str:
    sector = prompt.texts.get("sector_" + context.sector.value, context.sector.value)
    parts = [f"{prompt.text('context_sector')}: {sector}"]
    if context.unit:
        parts.append(f"{prompt.text('context_unit')}: {data_text(context.unit)}")
    if context.event_date:
        parts.append(f"{prompt.text('context_date')}: {context.event_date.isoformat()}")
    if context.event_type:
        parts.append(f"{prompt.text('context_event_type')}: {data_text(context.event_type)}")
    return ". ".join(parts) + "."


def category_list(language: str) -> str:
    return ", ".join(f"{c.id} ({c.label(language)})" for c in load_taxonomy())


def category_lines(language: str) -> str:
    return "\n".join(f"- {c.id}: {c.label(language)} – {c.description(language)}" for c in load_taxonomy())


def chunk_segments(segments: list[Segment], chunk_words: int) -> list[list[Segment]]:
    """Balanced chunks of at most ``chunk_words`` words, split between segments (a longer segment stands alone)."""
    words = [len(s.text.split()) for s in segments]
    total = sum(words)
    if total <= chunk_words:
        return [list(segments)] if segments else []
    n = math.ceil(total / chunk_words)
    limit = min(chunk_words, math.ceil(total / n * 1.1))
    chunks: list[list[Segment]] = [[]]
    count = 0
    for segment, w in zip(segments, words):
        if chunks[-1] and count + w > limit:
            chunks.append([])
            count = 0
        chunks[-1].append(segment)
        count += w
    return chunks


