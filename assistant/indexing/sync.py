"""Keeping the learning index derived from the record store: what an approved point looks like in the index,
rebuilding it, and checking that the two agree."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import select

from assistant.references import point_reference
from assistant.store import Database
from assistant.store.tables import Case, Draft, LearningPoint
from vectorstore.schema import IndexedPoint


class LearningIndexLike(Protocol):
    """The part of ``vectorstore.index.LearningIndex`` the review workflow needs (fakes implement it in tests)."""

    def upsert(self, points: list[IndexedPoint]) -> None: ...
    def delete(self, ids: list[str]) -> None: ...
    def delete_case(self, case_id: str) -> None: ...


def point_text(point: LearningPoint) -> str:
    """The searchable text of a point: what staff would recognise their own situation in."""
    parts = [point.title, point.what_happened]
    if point.contributing_factors:
        parts.append("Bidragende faktorer: " + "; ".join(point.contributing_factors))
    if point.what_went_well:
        parts.append("Det gik godt: " + "; ".join(point.what_went_well))
    actions = [a.get("action", "") for a in point.suggested_actions or []]
    if actions:
        parts.append("Handlinger: " + "; ".join(a for a in actions if a))
    return "\n".join(parts)


def indexed_point(point: LearningPoint, case: Case) -> IndexedPoint:
    """An approved learning point as the index stores it (pseudonymised text plus filterable metadata)."""
    draft = point.draft
    return IndexedPoint(
        learning_point_id=point.id,
        case_id=case.id,
        reference=point_reference(case.reference, point.number),
        case_reference=case.reference or "",
        text=point_text(point),
        title=point.title,
        sector=case.sector,
        unit=case.unit,
        category=point.category,
        severity=point.severity,
        safety_ii=point.safety_ii,
        event_date=case.event_date,
        visibility=point.visibility,
        prompt_id=draft.prompt_id,
        prompt_version=draft.prompt_version,
        model_id=draft.model_id,
    )


def approved_points(db: Database) -> list[IndexedPoint]:
    """Every point that belongs in the index, built from the store (the source of truth)."""
    with db.session() as session:
        rows = session.scalars(
            select(LearningPoint).join(Draft).where(LearningPoint.status == "approved")
        ).all()
        return [indexed_point(row, session.get(Case, row.case_id)) for row in rows]


class IndexDiff(BaseModel):
    """Differences between the store and the index; all empty means consistent."""

    missing: list[str] = []  # approved in the store, absent from the index
    orphaned: list[str] = []  # in the index, not approved in the store
    stale: list[str] = []  # present in both, metadata differ

    @property
    def consistent(self) -> bool:
        return not (self.missing or self.orphaned or self.stale)


def _comparable(metadata: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metadata.items() if k not in {"text", "document"}}


def check_index(db: Database, index) -> IndexDiff:
    """Compare the index with the store, id by id and metadata by metadata."""
    expected = {p.learning_point_id: _comparable(p.to_metadata()) for p in approved_points(db)}
    actual = {k: _comparable(v) for k, v in index.metadata_by_id().items()}
    return IndexDiff(
        missing=sorted(set(expected) - set(actual)),
        orphaned=sorted(set(actual) - set(expected)),
        stale=sorted(k for k in set(expected) & set(actual) if expected[k] != actual[k]),
    )


def rebuild_index(db: Database, index) -> IndexDiff:
    """Recreate the index from the store, then verify; returns the (expectedly empty) differences."""
    index.reset()
    points = approved_points(db)
    for start in range(0, len(points), 256):
        index.upsert(points[start : start + 256])
    return check_index(db, index)
