"""Trends for the Overview screen: what we learn from, where, and how fast review keeps up.

Pure read-only queries over the record store; the UI only draws what these return.
Learning points count from the newest draft of each case only (older drafts were superseded).
"""

from __future__ import annotations

import datetime as dt
import statistics

import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from assistant.auth import Actor, Permission
from assistant.store import Database
from assistant.store.tables import Case, LearningPoint

OPEN_POINT_STATUSES = ("draft", "returned")
OPEN_CASE_STATUSES = ("awaiting_review", "in_review")


class Overview(BaseModel):
    """Counts and review speed for a period; the frames are ready for bar and line plots."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    by_category: pd.DataFrame  # columns: category, status, points
    by_sector: pd.DataFrame  # columns: sector, cases
    by_month: pd.DataFrame  # columns: month (yyyy-mm), cases, approved_points
    cases_total: int
    cases_awaiting_review: int
    points_awaiting_decision: int
    points_approved: int
    points_rejected: int
    median_days_to_decision: float | None


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
            case_rows.append({"sector": case.sector, "month": _month(case.event_date or case.created_at),
                              "status": case.status})
            points: list[LearningPoint] = case.drafts[-1].learning_points if case.drafts else []
            for point in points:
                point_rows.append({
                    "category": point.category, "status": point.status,
                    "month": _month(case.event_date or case.created_at),
                    "days": ((point.decided_at - point.created_at).total_seconds() / 86400
                             if point.decided_at and point.status in ("approved", "rejected") else None),
                })
    cases_df = pd.DataFrame(case_rows, columns=["sector", "month", "status"])
    points_df = pd.DataFrame(point_rows, columns=["category", "status", "month", "days"])
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
        cases_total=len(cases_df),
        cases_awaiting_review=int(cases_df["status"].isin(OPEN_CASE_STATUSES).sum()),
        points_awaiting_decision=int(points_df["status"].isin(OPEN_POINT_STATUSES).sum()),
        points_approved=int((points_df["status"] == "approved").sum()),
        points_rejected=int((points_df["status"] == "rejected").sum()),
        median_days_to_decision=round(statistics.median(days), 2) if days else None,
    )
