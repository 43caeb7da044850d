"""`debrief review list|approve|reject`: the learning agent's review from the shell, acting as the local
administrator (``SYSTEM``), with the same queue filters as the app's Review tab; `debrief judgements export`: the
agents' similar-case judgements as an evaluation file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import PLAIN, SectorOpt, SinceOpt, UntilOpt, console, database, day, open_runtime, user_errors
from assistant.models import CaseStatus
from assistant.settings import get_settings


def review_list(
    sector: SectorOpt = None,
    unit: Annotated[str | None, typer.Option(help="Part of the unit's name, e.g. 'akut'.")] = None,
    category: Annotated[str | None, typer.Option(help="Category id, e.g. medicin.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    status: Annotated[list[CaseStatus] | None, typer.Option(
        "--status", help="Case status; repeat for several (default: awaiting_review and in_review).")] = None,
) -> None:
    """Cases awaiting review, oldest first, narrowed by sector, unit, category, event date and case status."""
    from assistant.auth import SYSTEM
    from assistant.review import QueueFilters, review_queue

    filters = QueueFilters(sectors=list(sector or []), unit=unit or None, category=category or None,
                           since=day(since), until=day(until))
    if status:
        filters.statuses = list(status)
    for item in review_queue(database(get_settings()), SYSTEM, filters):
        console.print(f"{item.reference or item.case_id}  {item.status:<16} {item.sector:<16} {item.unit or '-':<24} "
                      f"{item.pending_points} open  {', '.join(item.categories)}", **PLAIN)


PointArg = Annotated[str, typer.Argument(help="The point's reference (UTH-2026-0142/2) or id.")]


def review_approve(point_id: PointArg,
                   public: Annotated[bool, typer.Option(help="Visible to anonymous readers.")] = False) -> None:
    """Approve a learning point (it becomes searchable at once)."""
    from assistant.auth import SYSTEM
    from assistant.review import approve

    runtime = open_runtime()
    with user_errors():
        approve(runtime.db, runtime.index, SYSTEM, point_id, visibility="public" if public else "staff")


def review_reject(point_id: PointArg, reason: str, note: str = "") -> None:
    """Reject a learning point with a reason (not_a_learning_point, duplicate, insufficient_evidence, …)."""
    from assistant.auth import SYSTEM
    from assistant.review import reject

    runtime = open_runtime()
    with user_errors():
        reject(runtime.db, runtime.index, SYSTEM, point_id, reason=reason, note=note or None)


def judgements_export(
    output: Annotated[Path, typer.Option(help="JSONL file to write, one judgement a line.")] = Path(
        "similarity-judgements.jsonl"),
) -> None:
    """Export learning agents' "similar" / "not similar" judgements of case pairs, to keep as an evaluation file."""
    from assistant.review.similarity_judgements import export_judgements

    count = export_judgements(database(get_settings()), output)
    console.print(f"{count} judgements → {output}", **PLAIN)
