"""Trends for the Overview screen and ``debrief trends``: what we learn from, where, what went well beside what
went wrong, and how fast review keeps up.

Pure read-only queries over the record store; the UI only draws what these return, the CLI exports them.
Learning points count from the newest draft of each case only (older drafts were superseded). A case counts in
the month of its event date, else the month it was received.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections import Counter
from collections.abc import Sequence

import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from assistant.auth import Actor, Permission
from assistant.learning.patterns import Audience, PatternPoint, approved_points
from assistant.store import Database
from assistant.store.tables import Case, LearningPoint

OPEN_POINT_STATUSES = ("draft", "returned")
OPEN_CASE_STATUSES = ("awaiting_review", "in_review")


TABLES = ("by_category", "by_sector", "by_month", "by_unit", "by_outcome", "backlog", "decision_days")


class Overview(BaseModel):
    """Counts and review speed for a period; the frames are ready for bar and line plots."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    by_category: pd.DataFrame  # columns: category, status, points
    by_sector: pd.DataFrame  # columns: sector, cases
    by_month: pd.DataFrame  # columns: month (yyyy-mm), cases, approved_points
    by_unit: pd.DataFrame  # columns: unit, sector, cases (most cases first)
    by_outcome: pd.DataFrame  # columns: month, outcome (went_well | went_wrong), points — approved points only
    backlog: pd.DataFrame  # columns: month, open_points — points awaiting a decision, by the case's month
    decision_days: pd.DataFrame  # columns: month (of the decision), decisions, median_days
    cases_total: int
    cases_awaiting_review: int
    points_awaiting_decision: int
    points_approved: int
    points_rejected: int
    median_days_to_decision: float | None

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every frame by name, for export."""
        return {name: getattr(self, name) for name in TABLES}

    def summary(self) -> dict[str, int | float | None]:
        """The headline numbers."""
        return self.model_dump(exclude=set(TABLES))

    def to_json(self) -> str:
        """Headline numbers and every table as records (``debrief trends --format json``)."""
        tables = {name: json.loads(frame.to_json(orient="records", force_ascii=False))
                  for name, frame in self.tables().items()}
        return json.dumps({"summary": self.summary(), "tables": tables}, ensure_ascii=False, indent=2)


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def _month(day: dt.datetime | dt.date | None) -> str | None:
    return f"{day.year:04d}-{day.month:02d}" if day else None


def overview(db: Database, actor: Actor, *, since: dt.date | None = None, until: dt.date | None = None) -> Overview:
    """Statistics over cases received in [since, until] (by received date); needs the reports permission."""
    actor.require(Permission.read_reports)
    with db.session() as session:
        query = select(Case)
        if since:
            query = query.where(Case.created_at >= dt.datetime.combine(since, dt.time.min))
        if until:
            query = query.where(Case.created_at <= dt.datetime.combine(until, dt.time.max))
        cases = session.scalars(query).all()
        case_rows, point_rows = [], []
        for case in cases:
            case_rows.append({"sector": case.sector, "unit": case.unit or "–",
                              "month": _month(case.event_date or case.created_at), "status": case.status})
            points: list[LearningPoint] = case.drafts[-1].learning_points if case.drafts else []
            for point in points:
                decided = point.decided_at and point.status in ("approved", "rejected")
                point_rows.append({
                    "category": point.category, "status": point.status, "safety_ii": bool(point.safety_ii),
                    "month": _month(case.event_date or case.created_at),
                    "decided_month": _month(point.decided_at) if decided else None,
                    "days": (point.decided_at - point.created_at).total_seconds() / 86400 if decided else None,
                })
    cases_df = pd.DataFrame(case_rows, columns=["sector", "unit", "month", "status"])
    points_df = pd.DataFrame(point_rows, columns=["category", "status", "safety_ii", "month", "decided_month",
                                                  "days"])
    by_category = (points_df.groupby(["category", "status"]).size().reset_index(name="points")
                   if len(points_df) else pd.DataFrame({"category": [], "status": [], "points": []}))
    by_sector = (cases_df.groupby("sector").size().reset_index(name="cases")
                 if len(cases_df) else pd.DataFrame({"sector": [], "cases": []}))
    month_cases = cases_df.groupby("month").size().rename("cases")
    month_approved = points_df[points_df.status == "approved"].groupby("month").size().rename("approved_points")
    by_month = (pd.concat([month_cases, month_approved], axis=1).fillna(0).astype(int)
                .rename_axis("month").reset_index().sort_values("month"))
    if not len(by_month):
        by_month = pd.DataFrame({"month": [], "cases": [], "approved_points": []})
    days = [d for d in points_df["days"].tolist() if d is not None and d == d]
    return Overview(
        by_category=by_category,
        by_sector=by_sector,
        by_month=by_month,
        by_unit=_by_unit(cases_df),
        by_outcome=_by_outcome(points_df),
        backlog=_backlog(points_df),
        decision_days=_decision_days(points_df),
        cases_total=len(cases_df),
        cases_awaiting_review=int(cases_df["status"].isin(OPEN_CASE_STATUSES).sum()),
        points_awaiting_decision=int(points_df["status"].isin(OPEN_POINT_STATUSES).sum()),
        points_approved=int((points_df["status"] == "approved").sum()),
        points_rejected=int((points_df["status"] == "rejected").sum()),
        median_days_to_decision=round(statistics.median(days), 2) if days else None,
    )


class ApprovedCounts(BaseModel):
    """Approved points of one audience by category, sector and month (event month, else the month received)."""

    by_category: dict[str, int]
    by_sector: dict[str, int]
    by_month: dict[str, int]
    total: int


def count_approved(points: Sequence[PatternPoint]) -> ApprovedCounts:
    """The counts of ``points`` as they are, without any suppression (see ``public_counts`` for the open part)."""
    return ApprovedCounts(by_category=dict(Counter(p.category for p in points)),
                          by_sector=dict(Counter(p.sector for p in points)),
                          by_month=dict(sorted(Counter(p.month for p in points).items())), total=len(points))


def approved_counts(db: Database, actor: Actor, *, audience: Audience = "staff") -> ApprovedCounts:
    """Approved points by category, sector and month; the public audience counts only points approved as public,
    and an actor without the staff-points permission is always that audience."""
    actor.require(Permission.read_public_points)
    if not actor.can(Permission.read_staff_points):
        audience = "public"
    return count_approved(approved_points(db, audience=audience))


def _by_unit(cases: pd.DataFrame) -> pd.DataFrame:
    if not len(cases):
        return _frame([], ["unit", "sector", "cases"])
    counted = cases.groupby(["unit", "sector"]).size().reset_index(name="cases")
    return counted.sort_values(["cases", "unit"], ascending=[False, True], ignore_index=True)


def _by_outcome(points: pd.DataFrame) -> pd.DataFrame:
    """Approved points per month: mainly what went well (Safety-II) beside what went wrong."""
    approved = points[points.status == "approved"]
    rows = [{"month": month, "outcome": "went_well" if well else "went_wrong", "points": int(count)}
            for (month, well), count in approved.groupby(["month", "safety_ii"]).size().items()]
    return _frame(rows, ["month", "outcome", "points"]).sort_values(["month", "outcome"], ignore_index=True)


def _backlog(points: pd.DataFrame) -> pd.DataFrame:
    waiting = points[points.status.isin(OPEN_POINT_STATUSES)]
    rows = [{"month": month, "open_points": int(count)} for month, count in waiting.groupby("month").size().items()]
    return _frame(rows, ["month", "open_points"])


def _decision_days(points: pd.DataFrame) -> pd.DataFrame:
    decided = points[points.decided_month.notna()]
    rows = [{"month": month, "decisions": len(group), "median_days": round(float(group["days"].median()), 2)}
            for month, group in decided.groupby("decided_month")]
    return _frame(rows, ["month", "decisions", "median_days"])
