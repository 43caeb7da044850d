"""The index's expected failures. Each names a message key that the application translates, so this package
needs nothing from the layers above it; ``assistant.errors`` counts these among the errors users can meet."""

from __future__ import annotations

from typing import Any


class KeyedError(Exception):
    """An expected failure that names its message by key (``params`` fill it); the application translates it.

    The root of the index's errors and of Debrief's own (``assistant.errors.DebriefError``), so one ``except``
    catches every error a user can meet.
    """

    key = "error.unexpected"

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(f"{self.key} {params}" if params else self.key)


class VectorStoreError(KeyedError):
    """Base of the index's expected failures."""

    key = "index.unavailable"


class IndexUnavailable(VectorStoreError):
    """Chroma cannot be reached or opened, or the index was built with another embedding model."""

    key = "index.unavailable"


class EmbeddingUnavailable(VectorStoreError):
    """The embedding model cannot be loaded."""

    key = "model.unavailable"


class EmptyQuery(VectorStoreError):
    """A search was asked with nothing to search for."""

    key = "index.empty_query"


class SynonymFileInvalid(VectorStoreError):
    """A line of the search synonym list cannot be read; the message names the file and the line."""

    key = "index.synonyms_invalid"
