"""A patient's or relative's account beside the team's debrief of the same event.

A learning agent links the two cases; Review then shows the account's pseudonymised text next to the team's
transcript. Linking is audited; only roles that decide on points may link.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import or_, select

from assistant import audit
from assistant.auth import Actor, Permission
from assistant.cases import find_case
from assistant.errors import InvalidInput, NotFound
from assistant.models import ReporterType
from assistant.store import Database
from assistant.store.tables import Case, CaseLink


class LinkedCase(BaseModel):
    """The other side of a link, as Review shows it: its reference, who told it, and its pseudonymised text."""

    case_id: str
    reference: str = ""
    reporter_type: str
    text: str  # the transcript's segments, one paragraph each; already pseudonymised
    linked_by: str
    linked_at: dt.datetime


def _case(session, text: str) -> Case:
    case = find_case(session, text)
    if case is None:
        raise NotFound("record.not_found", what="record.what.case", case_id=text)
    return case


def link_account(db: Database, actor: Actor, case: str, other: str) -> None:
    """Link a patient's or relative's account to the staff case about the same event (ids or references, in
    either order).

    Only a role that decides (learning agent, admin); one case must be the team's and the other a patient's or
    relative's. Linking the same pair again changes nothing; each new link is audited on the staff case.
    """
    actor.require(Permission.decide)
    with db.session() as session:
        first, second = _case(session, case), _case(session, other)
        staff, account = (first, second) if first.reporter_type == ReporterType.staff.value else (second, first)
        if account.reporter_type == ReporterType.staff.value:
            raise InvalidInput("report.link_not_an_account", case=account.reference or account.id)
        if staff.reporter_type != ReporterType.staff.value:
            raise InvalidInput("report.link_not_staff", case=staff.reference or staff.id)
        existing = session.scalar(select(CaseLink.id).where(
            CaseLink.staff_case_id == staff.id, CaseLink.account_case_id == account.id))
        if existing is not None:
            return
        session.add(CaseLink(staff_case_id=staff.id, account_case_id=account.id, linked_by=actor.name))
        audit.record(session, actor, "link_account", case_id=staff.id,
                     after={"account_case_id": account.id, "account_reference": account.reference or "",
                            "reporter_type": account.reporter_type})


def linked_cases(db: Database, actor: Actor, case_id: str) -> list[LinkedCase]:
    """The cases linked to ``case_id``: for a staff case its patients' accounts, for an account the staff case."""
    actor.require(Permission.read_any_case)
    with db.session() as session:
        case = _case(session, case_id)
        links = session.scalars(
            select(CaseLink)
            .where(or_(CaseLink.staff_case_id == case.id, CaseLink.account_case_id == case.id))
            .order_by(CaseLink.linked_at)
        ).all()
        found = []
        for link in links:
            other = session.get(Case, link.account_case_id if link.staff_case_id == case.id else link.staff_case_id)
            segments = other.transcript.segments if other.transcript is not None else []
            found.append(LinkedCase(
                case_id=other.id, reference=other.reference or "", reporter_type=other.reporter_type,
                text="\n\n".join(s.text for s in sorted(segments, key=lambda s: s.index)),
                linked_by=link.linked_by, linked_at=link.linked_at,
            ))
        return found
