"""Case and point numbers, assigned when a row is first written, whichever code writes it (intake, tests, loaders).

A case's number comes from one counter row per year, bumped by a single ``INSERT … ON CONFLICT DO UPDATE …
RETURNING`` inside the intake's own transaction: on PostgreSQL the row stays locked until that transaction ends,
so two intakes at once get two numbers and a rolled-back intake gives its number back (no gaps); SQLite has one
writer at a time anyway. A point's number is the next one within its case; a redraft's points continue the count,
so a reference shown once never comes to mean another point. Unique indexes refuse anything that slips past.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from assistant.references import DEFAULT_PREFIX, case_reference
from assistant.store.tables import Case, LearningPoint, ReferenceCounter, new_id, utcnow

PREFIX_KEY = "reference_prefix"  # in ``Session.info``; ``Database`` sets it from the settings


def next_case_number(session: Session, year: int) -> int:
    """The next number of ``year``, counted atomically in the session's transaction."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ReferenceCounter).values(year=year, last_number=1)
    statement = statement.on_conflict_do_update(
        index_elements=[ReferenceCounter.year],
        set_={"last_number": ReferenceCounter.last_number + 1},
    ).returning(ReferenceCounter.last_number)
    return int(session.connection().execute(statement).scalar_one())


def _case_id(point: LearningPoint) -> str | None:
    """The point's case, also when only its draft (or the draft's case) has been set so far."""
    if point.case_id is not None or point.draft is None:
        return point.case_id
    return point.draft.case_id or (point.draft.case.id if point.draft.case is not None else None)


def assign_references(session: Session, _flush_context, _instances) -> None:
    """Before a flush: give new cases their reference and new points their number within the case."""
    new_cases = sorted((o for o in session.new if isinstance(o, Case) and o.reference is None),
                       key=lambda c: c.created_at or utcnow())
    for case in new_cases:
        case.id = case.id or new_id()  # points flushed with their case need it before the insert sets it
        case.created_at = case.created_at or utcnow()
        prefix = session.info.get(PREFIX_KEY, DEFAULT_PREFIX)
        year = case.created_at.year
        case.reference = case_reference(prefix, year, next_case_number(session, year))
    inserted = {case.id for case in new_cases}
    waiting: dict[str, list[LearningPoint]] = defaultdict(list)
    for point in session.new:
        if isinstance(point, LearningPoint) and point.number is None:
            case_id = _case_id(point)
            if case_id is not None:
                waiting[case_id].append(point)
    for case_id, points in waiting.items():
        last = 0 if case_id in inserted else session.connection().execute(
            select(func.coalesce(func.max(LearningPoint.number), 0)).where(LearningPoint.case_id == case_id)
        ).scalar_one()
        for offset, point in enumerate(sorted(points, key=lambda p: p.position or 0), start=1):
            point.number = last + offset
