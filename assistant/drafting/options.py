"""The few settings drafting reads, as one small model (like faster-whisper's ``VadOptions``): the drafting code
never sees the rest of the configuration, and tests state exactly what they vary."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.settings import Settings
from vectorstore.options import EmbeddingOptions


class DraftingOptions(BaseModel):
    """How a draft is made and how long it may take."""

    small_model: bool = Field(True, description="The small-model path (lines chosen, short answers) or the rich one.")
    prompt_language: Literal["da", "en"] = "da"
    chunk_words: int = 700
    max_tokens: int = 1024
    max_retries: int = 2
    call_seconds: float = 60.0
    draft_seconds: float = 150.0
    embedding: EmbeddingOptions = Field(default_factory=EmbeddingOptions)


    @classmethod
    def from_settings(cls, settings: Settings) -> DraftingOptions:
        """The options Debrief's settings give."""
        return cls(
            small_model=settings.drafts_with_small_model, prompt_language=settings.prompt_language,
            chunk_words=settings.chunk_words, max_tokens=settings.llm_max_tokens, max_retries=settings.llm_max_retries,
            call_seconds=settings.llm_call_seconds, draft_seconds=settings.draft_seconds,
            embedding=settings.embedding_options(),
        )


def drafting_options(source: DraftingOptions | Settings) -> DraftingOptions:
    """``source`` as :class:`DraftingOptions`: the options themselves, or what Debrief's settings give."""
    return source if isinstance(source, DraftingOptions) else DraftingOptions.from_settings(source)
