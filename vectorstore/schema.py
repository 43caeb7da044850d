"""What the learning index stores and how it is asked: one approved, pseudonymised point per entry.

Chroma metadata allows only str/int/float/bool and no None, so dates are stored as ``yyyymmdd`` integers
(which also makes range filters plain comparisons) and an unknown date is simply left out.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Visibility = Literal["public", "staff"]
MetadataValue = str | int | float | bool


def _plain(value: Any) -> Any:
    """Enum members (Sector, Severity) as their stored string value."""
    return value.value if isinstance(value, Enum) else value


def date_to_int(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def int_to_date(value: int) -> dt.date:
    return dt.date(value // 10000, value // 100 % 100, value % 100)


class IndexedPoint(BaseModel):
    """An approved learning point as the index holds it: searchable text plus filterable metadata."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    learning_point_id: str = Field(min_length=1)
    case_id: str = Field(min_length=1)
    # What people read, cite and type ("UTH-2026-0142/2", "UTH-2026-0142"); empty for points indexed before them.
    reference: str = ""
    case_reference: str = ""
    text: str = Field(min_length=1, description="Title, what happened, factors, what went well, actions.")
    title: str
    sector: str
    unit: str = ""
    category: str
    severity: str = ""
    safety_ii: bool = False
    event_date: dt.date | None = None
    visibility: Visibility = "staff"
    prompt_id: str = ""
    prompt_version: str = ""
    model_id: str = ""

    @field_validator("sector", "severity", "category", "visibility", mode="before")
    @classmethod
    def _enum_values(cls, value: Any) -> Any:
        return _plain(value)

    @field_validator("unit", "severity", "prompt_id", "prompt_version", "model_id", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value

    def to_metadata(self) -> dict[str, MetadataValue]:
        """Chroma metadata: everything but the id and the text, no None values, dates as yyyymmdd."""
        metadata: dict[str, MetadataValue] = {
            key: value
            for key, value in self.model_dump(exclude={"learning_point_id", "text", "event_date"}).items()
        }
        if self.event_date is not None:
            metadata["event_date"] = date_to_int(self.event_date)
        return metadata

    @classmethod
    def from_chroma(cls, point_id: str, document: str | None, metadata: dict[str, Any] | None) -> IndexedPoint:
        """Rebuild a point from what Chroma returns (inverse of :meth:`to_metadata`)."""
        fields = dict(metadata or {})
        if "event_date" in fields:
            fields["event_date"] = int_to_date(int(fields["event_date"]))
        return cls(learning_point_id=point_id, text=document or fields.get("title", "") or "-", **fields)


class SearchFilters(BaseModel):
    """Narrowing a search; an empty set or None means "no restriction" on that field.

    ``include_safety_ii``: None = all points, True = only Safety-II (what went well), False = none of them.
    ``since``/``until`` are inclusive and leave out points without an event date.
    """

    sectors: set[str] = Field(default_factory=set)
    units: set[str] = Field(default_factory=set)
    categories: set[str] = Field(default_factory=set)
    since: dt.date | None = None
    until: dt.date | None = None
    visibility: set[Visibility] = Field(default_factory=set)
    include_safety_ii: bool | None = None

    @field_validator("sectors", "units", "categories", "visibility", mode="before")
    @classmethod
    def _enum_members(cls, value: Any) -> Any:
        if value is None:
            return set()
        return {_plain(v) for v in value} if isinstance(value, (list, tuple, set, frozenset)) else value

    def to_where(self) -> dict[str, Any] | None:
        """The Chroma ``where`` clause (also usable as LangChain's ``filter=``); None when nothing narrows."""
        clauses: list[dict[str, Any]] = []
        for key, values in (("sector", self.sectors), ("unit", self.units), ("category", self.categories),
                            ("visibility", self.visibility)):
            if values:
                clauses.append({key: {"$in": sorted(values)}})
        if self.since is not None:
            clauses.append({"event_date": {"$gte": date_to_int(self.since)}})
        if self.until is not None:
            clauses.append({"event_date": {"$lte": date_to_int(self.until)}})
        if self.include_safety_ii is not None:
            clauses.append({"safety_ii": {"$eq": self.include_safety_ii}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def matches(self, point: IndexedPoint) -> bool:
        """The same test as :meth:`to_where`, in Python (for retrieval that does not go through Chroma)."""
        if self.sectors and point.sector not in self.sectors:
            return False
        if self.units and point.unit not in self.units:
            return False
        if self.categories and point.category not in self.categories:
            return False
        if self.visibility and point.visibility not in self.visibility:
            return False
        if (self.since or self.until) and point.event_date is None:
            return False
        if self.since and point.event_date < self.since:
            return False
        if self.until and point.event_date > self.until:
            return False
        return self.include_safety_ii is None or point.safety_ii == self.include_safety_ii


class Hit(IndexedPoint):
    """A search result: the point, its cosine similarity to the question (0–1) and its 1-based rank; ``relevance``
    is the fused score that ranked it (None for a dense-only search)."""

    score: float = Field(ge=0.0, le=1.0)
    rank: int = Field(ge=1)
    relevance: float | None = None


class CaseMatch(BaseModel):
    """A similar case: its matching approved points (best first), its rank and its best point's cosine."""

    case_id: str
    rank: int = Field(ge=1)
    score: float = Field(ge=0.0, le=1.0)
    points: list[Hit]
