"""`debrief patterns`, `debrief trends`, `debrief report` and `debrief actions list|add|update`: learning across
cases from the shell.

Thin: each command calls the library and prints or writes what it returns. The shell acts as the local
administrator, as ``debrief review`` does.
"""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import (
    PLAIN,
    DateOpt,
    console,
    day,
    emit,
    fail,
    open_runtime,
    translate_cli,
    user_errors,
)
from assistant.errors import USER_ERRORS


class AudienceChoice(StrEnum):
    """Whose points a theme or report may show (public: only points approved as public)."""

    staff = "staff"
    public = "public"


class TableFormat(StrEnum):
    """How tables leave the shell: read on screen, or JSON/CSV for other tools."""

    text = "text"
    json = "json"
    csv = "csv"


class ReportFormat(StrEnum):
    """The monthly report's file types."""

    md = "md"
    html = "html"
    pdf = "pdf"


AudienceOpt = Annotated[AudienceChoice, typer.Option(help="staff: public and internal points; public: "
                                                          "public points only.")]
LlmOpt = Annotated[bool, typer.Option("--llm/--no-llm", help="Name themes with the LLM (else keywords).")]
OutputOpt = Annotated[Path | None, typer.Option(help="Write to this file instead of printing.")]


def patterns(
    since: DateOpt = None,
    until: DateOpt = None,
    audience: AudienceOpt = AudienceChoice.staff,
    llm: LlmOpt = True,
    fmt: Annotated[TableFormat, typer.Option("--format", help="text, json (themes) or csv (theme × month × "
                                                              "sector).")] = TableFormat.text,
    output: OutputOpt = None,
) -> None:
    """Group approved learning points into themes, name them, and show how they grow over months and sectors."""
    from assistant.auth import SYSTEM
    from assistant.learning import IndexVectors, find_patterns

    runtime = open_runtime()
    with user_errors():
        found = find_patterns(runtime.db, IndexVectors(runtime.index), SYSTEM, since=day(since), until=day(until),
                              audience=audience.value, chat=runtime.components.chat if llm else None)
    if fmt == TableFormat.json:
        emit(found.model_dump_json(indent=2), output)
    elif fmt == TableFormat.csv:
        emit(found.to_csv(), output)
    else:
        _print_themes(found, llm)


def _print_themes(found, llm: bool) -> None:
    """The themes as text: size and sectors (↔ when they cross sectors), months, and the points they cite."""
    if not found.themes:
        console.print(translate_cli("learning.cli.no_themes", points=found.point_count))
        return
    console.print(translate_cli("learning.cli.themes", themes=len(found.themes), points=found.point_count,
                                ungrouped=len(found.ungrouped_ids)))
    for theme in found.themes:
        sectors = ", ".join(f"{translate_cli(f'ui.sector.{s}')} {n}" for s, n in theme.sectors.items())
        mark = " ↔" if theme.crosses_sectors else ""
        console.print(translate_cli("learning.cli.theme_line", id=theme.id, label=theme.label, size=theme.size,
                                    sectors=sectors) + mark, **PLAIN)
        console.print("    " + "  ".join(f"{m}: {n}" for m, n in theme.months.items()), **PLAIN)
        if theme.label_source == "keywords" and llm:
            console.print("    " + translate_cli("learning.cli.label_from_keywords", reason=theme.label_note), **PLAIN)
        # what a person reads and can type back (`debrief show UTH-2026-0142`); the id only for an unnumbered point
        cited = (found.points[i].reference or i if i in found.points else i for i in theme.cited_ids)
        console.print("    " + ", ".join(cited), **PLAIN)


def trends(
    since: DateOpt = None,
    until: DateOpt = None,
    fmt: Annotated[TableFormat, typer.Option("--format", help="text, json (all tables) or csv (one table).")] =
        TableFormat.text,
    table: Annotated[str, typer.Option(help="The table for csv: by_category, by_sector, by_month, by_unit, "
                                            "by_outcome, backlog, decision_days.")] = "by_month",
    output: OutputOpt = None,
) -> None:
    """Counts by category, sector, unit and month; what went well beside what went wrong; review backlog."""
    from assistant.auth import SYSTEM
    from assistant.learning import TABLES, overview

    if table not in TABLES:
        raise typer.BadParameter(f"{table!r}; use one of {', '.join(TABLES)}", param_hint="--table")
    data = overview(open_runtime().db, SYSTEM, since=day(since), until=day(until))
    if fmt == TableFormat.json:
        emit(data.to_json(), output)
    elif fmt == TableFormat.csv:
        emit(data.tables()[table].to_csv(index=False), output)
    else:
        lines = [json.dumps(data.summary(), ensure_ascii=False)]
        for name, frame in data.tables().items():
            lines += ["", f"# {name}", frame.to_string(index=False) if len(frame) else "-"]
        emit("\n".join(lines), output)


def report(
    month: Annotated[str, typer.Option(help="The month, YYYY-MM.")],
    fmt: Annotated[ReportFormat, typer.Option("--format", help="md, html or pdf.")] = ReportFormat.md,
    audience: AudienceOpt = AudienceChoice.staff,
    language: Annotated[str, typer.Option(help="da or en (the report's own texts).")] = "da",
    llm: LlmOpt = True,
    output: Annotated[Path | None, typer.Option(help="File to write (default debrief-report-MONTH.FORMAT).")]
        = None,
) -> None:
    """The anonymised monthly learning report: top and new themes, good practice, open actions, counts."""
    from assistant.auth import SYSTEM
    from assistant.learning import IndexVectors, build_report, render

    runtime = open_runtime()
    with user_errors():
        built = build_report(runtime.db, IndexVectors(runtime.index), SYSTEM, month, settings=runtime.settings,
                             chat=runtime.components.chat if llm else None, audience=audience.value)
    path = output or Path(f"debrief-report-{built.month}.{fmt.value}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render(built, fmt.value, language))
    console.print(translate_cli("learning.cli.report_written", month=built.month, path=str(path)), **PLAIN)


def actions_list(
    status: Annotated[list[str] | None, typer.Option("--status", help="planned, in_progress, done, dropped "
                                                                         "(repeat for several).")] = None,
    fmt: Annotated[TableFormat, typer.Option("--format", help="text, json or csv.")] = TableFormat.text,
) -> None:
    """Followed-up actions, soonest due first."""
    from assistant.auth import SYSTEM
    from assistant.learning import ActionStatus, list_actions

    try:
        statuses = tuple(ActionStatus(s) for s in status or [])
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--status") from error
    found = list_actions(open_runtime().db, SYSTEM, statuses=statuses or None)
    if fmt == TableFormat.json:
        emit(json.dumps([a.model_dump(mode="json") for a in found], ensure_ascii=False, indent=2), None)
    elif fmt == TableFormat.csv:
        import pandas as pd

        emit(pd.DataFrame([a.model_dump(mode="json") for a in found]).to_csv(index=False), None)
    else:
        _print_actions(found)


def _print_actions(found) -> None:
    """The actions as text, one a line; `!` marks one past its due date."""
    if not found:
        console.print(translate_cli("learning.cli.no_actions"))
    today = dt.date.today()
    for a in found:
        late = " !" if a.overdue(today) else ""
        console.print(f"{a.id}  {a.status.value:<11} {a.due_date or '-'}{late}  {a.owner_role or '-'}  "
                      f"{a.action}  [{a.reference or a.learning_point_id}]", **PLAIN)


def actions_add(
    point_id: str,
    index: Annotated[int | None, typer.Option(help="Which suggested action (1, 2 …).")] = None,
    text: Annotated[str | None, typer.Option(help="A new action instead of a suggested one.")] = None,
    owner_role: Annotated[str, typer.Option(help="A role, never a person's name.")] = "",
    due: DateOpt = None,
    status: Annotated[str, typer.Option(help="planned, in_progress, done or dropped.")] = "planned",
) -> None:
    """Follow up a suggested action of an approved learning point."""
    from assistant.auth import SYSTEM
    from assistant.learning import ActionPlan, ActionStatus, track_action

    try:
        plan = ActionPlan(owner_role=owner_role, due_date=day(due), status=ActionStatus(status))
        tracked = track_action(open_runtime().db, SYSTEM, point_id, action_index=index - 1 if index else None,
                               action=text, plan=plan)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    except USER_ERRORS as error:
        fail(error)
    console.print(translate_cli("learning.cli.action_tracked", id=tracked.id))


def actions_update(
    action_id: str,
    status: Annotated[str | None, typer.Option(help="planned, in_progress, done or dropped.")] = None,
    owner_role: Annotated[str | None, typer.Option(help="A role, never a person's name.")] = None,
    due: DateOpt = None,
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Move a followed-up action on."""
    from assistant.auth import SYSTEM
    from assistant.learning import ActionPlan, ActionStatus, update_action

    try:
        plan = ActionPlan(owner_role=owner_role, due_date=day(due), note=note,
                          status=ActionStatus(status) if status else None)
        updated = update_action(open_runtime().db, SYSTEM, action_id, plan)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    except USER_ERRORS as error:
        fail(error)
    console.print(translate_cli("learning.cli.action_updated", id=updated.id, status=updated.status.value))
