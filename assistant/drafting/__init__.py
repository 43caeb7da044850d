"""ISBAR sections and learning points drafted by the LLM and checked against the transcript."""

from __future__ import annotations

from assistant.drafting.generative import draft_case, draft_case_with_report
from assistant.drafting.rendering import chunk_segments, render_transcript
from assistant.drafting.schema import DraftOut, DraftTrace, llm_schema

__all__ = [
    "DraftOut",
    "DraftTrace",
    "chunk_segments",
    "draft_case",
    "draft_case_with_report",
    "llm_schema",
    "render_transcript",
]
