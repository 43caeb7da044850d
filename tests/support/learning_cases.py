"""Approved learning points for the learning-across-cases tests, built from ``tests/data/themes_da.jsonl``.

Points go into the real record store as drafted cases and are approved through the review workflow (so the
real index holds them as in production); only the decision time is set afterwards, to place it in a month.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

from assistant.auth import Actor, Role
from assistant.llm import ChatReply
from assistant.review import approve, reject
from assistant.store import Database
from assistant.store.tables import Case, Draft, LearningPoint

THEMES = Path(__file__).resolve().parents[1] / "data" / "themes_da.jsonl"
AGENT = Actor(user_id="a1", name="agent-anne", role=Role.learning_agent)


def synthetic_points() -> list[dict]:
    """72 Danish learning points in 6 known themes across hospital, municipality and general practice."""
    return [json.loads(line) for line in THEMES.read_text(encoding="utf-8").splitlines() if line.strip()]


def points_of(category: str, n: int, *, visibility: str, sector: str, months: list[str], skip: int = 0) -> list[dict]:
    """``n`` synthetic points of ``category`` with the given visibility and sector, their event months in turn."""
    rows = [r for r in synthetic_points() if r["category"] == category][skip:skip + n]
    assert len(rows) == n
    return [{**row, "visibility": visibility, "sector": sector, "event_date": f"{months[i % len(months)]}-15"}
            for i, row in enumerate(rows)]


def open_dashboard_points() -> tuple[list[dict], list[dict]]:
    """For the open dashboard: public are 6 medication points (hospital, January), 3 falls (municipality) and 5
    equipment points (general practice) over four months; staff only are 7 diagnostic points and 4 more falls."""
    public = (points_of("medicin", 6, visibility="public", sector="hospital", months=["2026-01"])
              + points_of("fald", 3, visibility="public", sector="municipality", months=["2026-03", "2026-04"])
              + points_of("udstyr", 5, visibility="public", sector="general_practice",
                          months=["2026-04", "2026-05", "2026-06"]))
    staff = (points_of("diagnostik", 7, visibility="staff", sector="hospital", months=["2026-02"])
             + points_of("fald", 4, visibility="staff", sector="municipality", months=["2026-03"], skip=3))
    return public, staff


def store_point(db: Database, row: dict, *, status: str = "draft") -> str:
    """One case with one drafted learning point as the pipeline leaves it; returns the point id."""
    with db.session() as session:
        case = Case(source_kind="notes", content_hash=uuid.uuid4().hex, receipt_hash=uuid.uuid4().hex,
                    sector=row["sector"], unit=row.get("unit", ""), status="awaiting_review",
                    event_date=dt.date.fromisoformat(row["event_date"]) if row.get("event_date") else None,
                    event_type=row.get("category", ""))
        session.add(case)
        session.flush()
        draft = Draft(case_id=case.id, prompt_id="synthetic", prompt_version="1", model_id="synthetic", isbar=[])
        session.add(draft)
        session.flush()
        point = LearningPoint(
            case_id=case.id, draft_id=draft.id, title=row["title"], what_happened=row["what_happened"],
            contributing_factors=row.get("contributing_factors", []), what_went_well=row.get("what_went_well", []),
            suggested_actions=[{"action": a, "measure": ""} for a in row.get("suggested_actions", [])],
            category=row["category"], severity=row.get("severity", "mild"), safety_ii=row.get("safety_ii", False),
            evidence=[], status=status,
        )
        session.add(point)
        session.flush()
        return point.id


def decided_on(db: Database, point_id: str, when: dt.datetime, *, drafted: dt.datetime | None = None) -> None:
    """Place a decision (and the draft before it) in time: the workflow stamps both 'now'."""
    with db.session() as session:
        point = session.get(LearningPoint, point_id)
        point.decided_at = when
        if drafted is not None:
            point.created_at = drafted


def store_approved(db: Database, index, rows: list[dict], *, decided: dt.datetime | None = None) -> dict[str, str]:
    """Store and approve every row (with its visibility); returns synthetic id → learning-point id."""
    ids = {}
    for row in rows:
        point_id = store_point(db, row)
        approve(db, index, AGENT, point_id, visibility=row.get("visibility", "staff"))
        if decided is not None:
            decided_on(db, point_id, decided)
        ids[row["id"]] = point_id
    return ids


def store_rejected(db: Database, index, row: dict, *, decided: dt.datetime | None = None) -> str:
    point_id = store_point(db, row)
    reject(db, index, AGENT, point_id, reason="duplicate")
    if decided is not None:
        decided_on(db, point_id, decided)
    return point_id


class LabelChat:
    """A chat model for orchestration tests: labels a theme after its first keyword, citing points 1 and 2."""

    model_id = "label-fake"

    def __init__(self) -> None:
        self.calls = 0

    def complete_json(self, messages, schema, max_tokens) -> ChatReply:
        self.calls += 1
        keywords = messages[-1].content.split("Nøgleord for gruppen:")[1].splitlines()[0].strip()
        cited = [n for n in (1, 2) if n in schema["properties"]["cited"]["items"]["enum"]]
        label = f"Tema: {keywords.split(',')[0].strip()}"
        return ChatReply(text=json.dumps({"label": label, "cited": cited}, ensure_ascii=False), finish_reason="stop")

    def stream(self, messages, max_tokens):
        yield ""


class GarbleChat:
    """A chat model that never answers usable JSON (as a small model may do)."""

    model_id = "garble-fake"

    def __init__(self) -> None:
        self.calls = 0

    def complete_json(self, messages, schema, max_tokens) -> ChatReply:
        self.calls += 1
        return ChatReply(text='{"label": "x"', finish_reason="stop")

    def stream(self, messages, max_tokens):
        yield ""
