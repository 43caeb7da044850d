"""Follow-up of suggested actions (PDSA): an approved point's action gets an owner role, a due date and a status.

Owners are roles ("afdelingssygeplejerske"), never named people: the follow-up is shared in monthly reports.
Every change is audited with before/after, like review decisions.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints
from sqlalchemy import select

from assistant import audit
from assistant.auth import Actor, Permission
from assistant.errors import InvalidInput, NotFound
from assistant.cases import find_point
from assistant.references import point_reference
from assistant.store import Database
from assistant.store.tables import ActionFollowUp, LearningPoint, utcnow


class ActionStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    done = "done"
    dropped = "dropped"


OPEN_STATUSES = (ActionStatus.planned, ActionStatus.in_progress)
OwnerRole = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]


class ActionPlan(BaseModel):
    """What a learning agent sets when an action is taken up or moved on; unset fields stay as they are."""

    owner_role: OwnerRole | None = None
    due_date: dt.date | None = None
    status: ActionStatus | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class TrackedAction(BaseModel):
    """One followed-up action as reports and screens show it (no names: the owner is a role)."""

    id: str
    learning_point_id: str
    case_id: str
    reference: str = ""  # the point's, "UTH-2026-0142/2"
    point_title: str
    action: str
    measure: str = ""
    owner_role: str = ""
    due_date: dt.date | None = None
    status: ActionStatus
    note: str | None = None
    updated_at: dt.datetime
    done_at: dt.datetime | None = None
    visibility: str = "staff"

    def overdue(self, today: dt.date) -> bool:
        """Still open after its due date."""
        return self.status in OPEN_STATUSES and self.due_date is not None and self.due_date < today


def _view(row: ActionFollowUp, point: LearningPoint) -> TrackedAction:
    return TrackedAction(
        id=row.id, learning_point_id=row.learning_point_id, case_id=row.case_id,
        reference=point_reference(point.draft.case.reference, point.number), point_title=point.title,
        action=row.action, measure=row.measure, owner_role=row.owner_role, due_date=row.due_date,
        status=ActionStatus(row.status), note=row.note, updated_at=row.updated_at, done_at=row.done_at,
        visibility=point.visibility,
    )


def _snapshot(row: ActionFollowUp) -> dict[str, Any]:
    return {"action": row.action, "owner_role": row.owner_role,
            "due_date": row.due_date.isoformat() if row.due_date else None, "status": row.status, "note": row.note}


def _apply(row: ActionFollowUp, plan: ActionPlan, actor: Actor) -> None:
    changes = plan.model_dump(exclude_none=True)
    for name, value in changes.items():
        setattr(row, name, value.value if isinstance(value, ActionStatus) else value)
    if "status" in changes:
        row.done_at = utcnow() if plan.status == ActionStatus.done else None
    row.updated_by, row.updated_at = actor.name, utcnow()


def track_action(db: Database, actor: Actor, point_id: str, *, action_index: int | None = None,
                 action: str | None = None, plan: ActionPlan | None = None) -> TrackedAction:
    """Start following up one of an approved point's suggested actions (by position) or a new action text."""
    actor.require(Permission.decide)
    plan = plan or ActionPlan()
    with db.session() as session:
        point = find_point(session, point_id)  # by id or by reference ("UTH-2026-0142/2")
        if point is None:
            raise NotFound("record.not_found", what="record.what.point", point_id=point_id)
        if point.status != "approved":
            raise InvalidInput("learning.action_needs_approved_point", status=point.status)
        suggested = list(point.suggested_actions or [])
        if action_index is not None:
            if not 0 <= action_index < len(suggested):
                raise InvalidInput("learning.action_unknown", index=action_index + 1, count=len(suggested))
            text, measure = suggested[action_index].get("action", ""), suggested[action_index].get("measure", "")
        else:
            text, measure = (action or "").strip(), ""
        if not text:
            raise InvalidInput("learning.action_empty")
        row = ActionFollowUp(learning_point_id=point.id, case_id=point.case_id, action=text, measure=measure or "",
                             owner_role="", status=ActionStatus.planned.value, updated_by=actor.name)
        _apply(row, plan, actor)
        session.add(row)
        session.flush()
        audit.record(session, actor, "action_tracked", case_id=point.case_id, learning_point_id=point.id,
                     after=_snapshot(row))
        return _view(row, point)


def update_action(db: Database, actor: Actor, action_id: str, plan: ActionPlan) -> TrackedAction:
    """Move an action on (owner role, due date, status, note); audited with before/after."""
    actor.require(Permission.decide)
    with db.session() as session:
        row = session.get(ActionFollowUp, action_id)
        if row is None:
            raise NotFound("record.not_found", what="record.what.action", action_id=action_id)
        before = _snapshot(row)
        _apply(row, plan, actor)
        session.flush()
        audit.record(session, actor, "action_updated", case_id=row.case_id, learning_point_id=row.learning_point_id,
                     before=before, after=_snapshot(row))
        return _view(row, session.get(LearningPoint, row.learning_point_id))


def list_actions(db: Database, actor: Actor, *, statuses: tuple[ActionStatus, ...] | None = None,
                 point_ids: list[str] | None = None, visibility: set[str] | None = None) -> list[TrackedAction]:
    """Followed-up actions on points that are approved now, soonest due first (no due date last)."""
    actor.require(Permission.read_reports)
    with db.session() as session:
        query = (select(ActionFollowUp, LearningPoint)
                 .join(LearningPoint, LearningPoint.id == ActionFollowUp.learning_point_id)
                 .where(LearningPoint.status == "approved"))
        if statuses:
            query = query.where(ActionFollowUp.status.in_([s.value for s in statuses]))
        if point_ids is not None:
            query = query.where(ActionFollowUp.learning_point_id.in_(point_ids))
        if visibility:
            query = query.where(LearningPoint.visibility.in_(sorted(visibility)))
        found = [_view(row, point) for row, point in session.execute(query)]
    return sorted(found, key=lambda a: (a.due_date is None, a.due_date or dt.date.max, a.updated_at))


class ActionCount(BaseModel):
    """How many actions stand where: the PDSA follow-up at a glance."""

    planned: int = 0
    in_progress: int = 0
    done: int = 0
    dropped: int = 0
    overdue: int = 0


def count_actions(actions: list[TrackedAction], today: dt.date) -> ActionCount:
    """Counts per status plus the open ones past their due date."""
    counts = ActionCount()
    for item in actions:
        setattr(counts, item.status.value, getattr(counts, item.status.value) + 1)
    counts.overdue = sum(a.overdue(today) for a in actions)
    return counts


def action_choices(db: Database, actor: Actor, point_id: str) -> list[str]:
    """The suggested actions of an approved point, in order, for picking one to follow up."""
    actor.require(Permission.read_reports)
    with db.session() as session:
        point = session.get(LearningPoint, point_id)
        if point is None or point.status != "approved":
            raise NotFound("record.not_found", what="record.what.point", point_id=point_id)
        return [a.get("action", "") for a in point.suggested_actions or []]


__all__ = [
    "ActionCount", "ActionPlan", "ActionStatus", "OPEN_STATUSES", "TrackedAction", "action_choices", "count_actions",
    "list_actions", "track_action", "update_action",
]
