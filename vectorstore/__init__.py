"""The learning index: approved, pseudonymised learning points in Chroma, searchable by meaning.

``vectorstore.schema`` (what is stored and asked, pydantic only) is cheap to import; ``vectorstore.index``
and ``vectorstore.embeddings`` load Chroma and the embedding model, so import them where they are used.
"""

from vectorstore.schema import CaseMatch, Hit, IndexedPoint, SearchFilters

__all__ = ["CaseMatch", "Hit", "IndexedPoint", "SearchFilters"]
