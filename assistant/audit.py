"""Writing to the append-only audit log (the database refuses edits; see ``store/audit_guard.py``)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, null, select, update
from sqlalchemy.orm import Session

from assistant.auth import Actor
from assistant.store import Database
from assistant.store.tables import AuditEvent


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    case_id: str | None = None,
    learning_point_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    """Add one audit event to the caller's unit of work, so the decision and its record commit together."""
    session.add(
        AuditEvent(
            actor=actor.name,
            role=actor.role.value,
            action=action,
            case_id=case_id,
            learning_point_id=learning_point_id,
            before=before,
            after=after,
            note=note,
        )
    )


def events_for_case(db: Database, case_id: str) -> list[dict[str, Any]]:
    """The case's audit trail, oldest first."""
    with db.session() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id))
        return [
            {
                "at": r.at, "actor": r.actor, "role": r.role, "action": r.action,
                "learning_point_id": r.learning_point_id, "before": r.before, "after": r.after, "note": r.note,
            }
            for r in rows
        ]


def redact_case(session: Session, case_id: str) -> int:
    """Erase content from a case's audit events (the only change the triggers allow); the events stay."""
    result = session.execute(
        update(AuditEvent).where(AuditEvent.case_id == case_id).values(before=null(), after=null(), note=None)  # SQL NULL, not JSON 'null'
    )
    return result.rowcount


def audit_chain(connection: Connection) -> tuple[int, str]:
    """How many audit events there are and a hash chained over all of them in order (each link hashes the one
    before and one whole event), so a copy of the log can be checked event by event against the original."""
    link = hashlib.sha256(b"debrief-audit-v1").hexdigest()
    count = 0
    for row in connection.execute(select(AuditEvent.__table__).order_by(AuditEvent.id)).mappings():
        event = json.dumps(dict(row), sort_keys=True, ensure_ascii=False, default=str)
        link = hashlib.sha256(f"{link}\n{event}".encode()).hexdigest()
        count += 1
    return count, link
