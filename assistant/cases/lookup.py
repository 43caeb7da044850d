"""Finding a case or learning point by what a person typed: its id, or its reference (``UTH-2026-0142/2``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.references import Reference, parse_reference
from assistant.store.tables import Case, LearningPoint

def _case_for(session: Session, reference: Reference) -> Case | None:
    if reference.prefix:
        case = session.scalar(select(Case).where(Case.reference == reference.case))
        if case is not None:
            return case
    # No prefix typed, or another one (the setting changed since): year and number are unique across prefixes,
    # as there is one counter per year.
    tail = f"-{reference.year}-{reference.number:04d}"
    found = session.scalars(select(Case).where(Case.reference.like(f"%{tail}")).limit(2)).all()
    return found[0] if len(found) == 1 and found[0].reference.endswith(tail) else None


def find_case(session: Session, text: str) -> Case | None:
    """The case ``text`` names, by reference (a point's reference names its case) or by id; else None."""
    text = (text or "").strip()
    reference = parse_reference(text)  # an id never reads as a reference: it has no dash or space
    if reference is None:
        return session.get(Case, text) if text else None
    return _case_for(session, reference)


def find_point(session: Session, text: str) -> LearningPoint | None:
    """The learning point ``text`` names, by reference (``UTH-2026-0142/2``) or by id; else None."""
    text = (text or "").strip()
    reference = parse_reference(text)
    if reference is None:
        return session.get(LearningPoint, text) if text else None
    if reference.point is None:
        return None
    case = _case_for(session, reference)
    if case is None:
        return None
    return session.scalar(select(LearningPoint).where(LearningPoint.case_id == case.id,
                                                      LearningPoint.number == reference.point))
