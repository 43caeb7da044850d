"""ISBAR sections and learning points drafted from a pseudonymised transcript and checked against it."""

from __future__ import annotations

from assistant.drafting.draft import draft_case, draft_case_with_report
from assistant.drafting.faithfulness import copied_fields
from assistant.drafting.options import DraftingOptions, drafting_options
from assistant.drafting.rendering import chunk_segments, render_transcript
from assistant.drafting.schema import DraftOut, DraftTrace, llm_schema

__all__ = ["DraftOut", "DraftTrace", "DraftingOptions", "drafting_options", "chunk_segments", "copied_fields", "draft_case", "draft_case_with_report",
           "llm_schema", "render_transcript"]
