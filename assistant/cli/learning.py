"""`debrief patterns`, `debrief trends`, `debrief report` and `debrief actions`: learning across cases from the shell.

Thin: each command calls the library and prints or writes what it returns. The shell acts as the local
administrator, as ``debrief review`` does.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from assistant.errors import DebriefError
from assistant.i18n import translate
from assistant.settings import get_settings

console = Console()
DateOpt = Annotated[Optional[dt.datetime], typer.Option(formats=["%Y-%m-%d"], help="YYYY-MM-DD")]


class AudienceChoice(StrEnum):
    staff = "staff"
    public = "public"


class TableFormat(StrEnum):
    text = "text"
    json = "json"
    csv = "csv"


class ReportFormat(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"


def _t(key: str, **params: object) -> str:
    return translate(f"learning.cli.{key}", get_settings().ui_language, **params)


def _fail(error: DebriefError) -> None:
    console.print(f"[red]{error.message(get_settings().ui_language)}[/red]")
    raise typer.Exit(code=2)


def _runtime():
    from assistant.jobs import Runtime

    return Runtime.create(get_settings())


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value else None


def register(app: typer.Typer) -> None:
    """Add ``patterns``, ``trends``, ``report`` and ``actions`` to ``app``."""
    actions_app = typer.Typer(help="Follow-up of suggested actions on approved learning points (PDSA).",
                              no_args_is_help=True)
    app.add_typer(actions_app, name="actions")

    @app.command("patterns")
    def patterns(
        since: DateOpt = None,
        until: DateOpt = None,
        audience: Annotated[AudienceChoice, typer.Option(help="staff: public and internal points; public: "
                                                              "public points only.")] = AudienceChoice.staff,
        llm: Annotated[bool, typer.Option("--llm/--no-llm", help="Name themes with the LLM (else keywords).")] = True,
        fmt: Annotated[TableFormat, typer.Option("--format", help="text, json (themes) or csv (theme × month × "
                                                                  "sector).")] = TableFormat.text,
        output: Annotated[Optional[Path], typer.Option(help="Write to this file instead of printing.")] = None,
    ) -> None:
        """Group approved learning points into themes, name them, and show how they grow over months and sectors."""
        from assistant.auth import SYSTEM
        from assistant.learning import IndexVectors, find_patterns

        runtime = _runtime()
        try:
            found = find_patterns(runtime.db, IndexVectors(runtime.index), SYSTEM, since=_day(since),
                                  until=_day(until), audience=audience.value,
                                  chat=runtime.components.chat if llm else None)
        except DebriefError as error:
            _fail(error)
        if fmt == TableFormat.json:
            _emit(found.model_dump_json(indent=2), output)
            return
        if fmt == TableFormat.csv:
            rows = [{"theme_id": t.id, "label": t.label, "month": p.month, "sector": p.sector,
                     "learning_point_id": p.learning_point_id, "crosses_sectors": t.crosses_sectors}
                    for t in found.themes for p in (found.points[i] for i in t.member_ids)]
            import pandas as pd

            frame = pd.DataFrame(rows, columns=["theme_id", "label", "month", "sector", "learning_point_id",
                                                "crosses_sectors"])
            _emit(frame.to_csv(index=False), output)
            return
        language = runtime.settings.ui_language
        if not found.themes:
            console.print(_t("no_themes", points=found.point_count))
            return
        console.print(_t("themes", themes=len(found.themes), points=found.point_count,
                         ungrouped=len(found.ungrouped_ids)))
        for theme in found.themes:
            sectors = ", ".join(f"{translate(f'ui.sector.{s}', language)} {n}" for s, n in theme.sectors.items())
            mark = " ↔" if theme.crosses_sectors else ""
            console.print(_t("theme_line", id=theme.id, label=theme.label, size=theme.size, sectors=sectors) + mark,
                          markup=False, highlight=False)
            console.print("    " + "  ".join(f"{m}: {n}" for m, n in theme.months.items()), markup=False,
                          highlight=False)
            if theme.label_source == "keywords" and llm:
                console.print("    " + _t("label_from_keywords", reason=theme.label_note), markup=False,
                              highlight=False)
            console.print("    " + ", ".join(theme.cited_ids), markup=False, highlight=False)

    @app.command("trends")
    def trends(
        since: DateOpt = None,
        until: DateOpt = None,
        fmt: Annotated[TableFormat, typer.Option("--format", help="text, json (all tables) or csv (one table).")] =
            TableFormat.text,
        table: Annotated[str, typer.Option(help="The table for csv: by_category, by_sector, by_month, by_unit, "
                                                "by_outcome, backlog, decision_days.")] = "by_month",
        output: Annotated[Optional[Path], typer.Option(help="Write to this file instead of printing.")] = None,
    ) -> None:
        """Counts by category, sector, unit and month; what went well beside what went wrong; review backlog."""
        from assistant.auth import SYSTEM
        from assistant.learning import TABLES, overview

        if table not in TABLES:
            raise typer.BadParameter(f"{table!r}; use one of {', '.join(TABLES)}", param_hint="--table")
        runtime = _runtime()
        data = overview(runtime.db, SYSTEM, since=_day(since), until=_day(until))
        if fmt == TableFormat.json:
            _emit(data.to_json(), output)
        elif fmt == TableFormat.csv:
            _emit(data.tables()[table].to_csv(index=False), output)
        else:
            lines = [json.dumps(data.summary(), ensure_ascii=False)]
            for name, frame in data.tables().items():
                lines += ["", f"# {name}", frame.to_string(index=False) if len(frame) else "-"]
            _emit("\n".join(lines), output)

    @app.command("report")
    def report(
        month: Annotated[str, typer.Option(help="The month, YYYY-MM.")],
        fmt: Annotated[ReportFormat, typer.Option("--format", help="md, html or pdf.")] = ReportFormat.md,
        audience: Annotated[AudienceChoice, typer.Option(help="staff: public and internal points; public: "
                                                              "public points only.")] = AudienceChoice.staff,
        language: Annotated[str, typer.Option(help="da or en (the report's own texts).")] = "da",
        llm: Annotated[bool, typer.Option("--llm/--no-llm", help="Name themes with the LLM (else keywords).")] = True,
        output: Annotated[Optional[Path], typer.Option(help="File to write (default debrief-report-MONTH.FORMAT).")]
            = None,
    ) -> None:
        """The anonymised monthly learning report: top and new themes, good practice, open actions, counts."""
        from assistant.auth import SYSTEM
        from assistant.learning import IndexVectors, build_report, render

        runtime = _runtime()
        try:
            built = build_report(runtime.db, IndexVectors(runtime.index), SYSTEM, month, settings=runtime.settings,
                                 chat=runtime.components.chat if llm else None, audience=audience.value)
        except DebriefError as error:
            _fail(error)
        path = output or Path(f"debrief-report-{built.month}.{fmt.value}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render(built, fmt.value, language))
        console.print(_t("report_written", month=built.month, path=str(path)), markup=False, highlight=False)

    @actions_app.command("list")
    def actions_list(
        status: Annotated[Optional[list[str]], typer.Option("--status", help="planned, in_progress, done, dropped "
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
        found = list_actions(_runtime().db, SYSTEM, statuses=statuses or None)
        if fmt == TableFormat.json:
            _emit(json.dumps([a.model_dump(mode="json") for a in found], ensure_ascii=False, indent=2), None)
            return
        if fmt == TableFormat.csv:
            import pandas as pd

            _emit(pd.DataFrame([a.model_dump(mode="json") for a in found]).to_csv(index=False), None)
            return
        if not found:
            console.print(_t("no_actions"))
        today = dt.date.today()
        for a in found:
            late = " !" if a.overdue(today) else ""
            console.print(f"{a.id}  {a.status.value:<11} {a.due_date or '-'}{late}  {a.owner_role or '-'}  "
                          f"{a.action}  [{a.learning_point_id}]", markup=False, highlight=False)

    @actions_app.command("add")
    def actions_add(
        point_id: str,
        index: Annotated[Optional[int], typer.Option(help="Which suggested action (1, 2 …).")] = None,
        text: Annotated[Optional[str], typer.Option(help="A new action instead of a suggested one.")] = None,
        owner_role: Annotated[str, typer.Option(help="A role, never a person's name.")] = "",
        due: DateOpt = None,
        status: Annotated[str, typer.Option(help="planned, in_progress, done or dropped.")] = "planned",
    ) -> None:
        """Follow up a suggested action of an approved learning point."""
        from assistant.auth import SYSTEM
        from assistant.learning import ActionPlan, ActionStatus, track_action

        try:
            plan = ActionPlan(owner_role=owner_role, due_date=_day(due), status=ActionStatus(status))
            tracked = track_action(_runtime().db, SYSTEM, point_id, action_index=index - 1 if index else None,
                                   action=text, plan=plan)
        except ValueError as error:
            raise typer.BadParameter(str(error)) from error
        except DebriefError as error:
            _fail(error)
        console.print(_t("action_tracked", id=tracked.id))

    @actions_app.command("update")
    def actions_update(
        action_id: str,
        status: Annotated[Optional[str], typer.Option(help="planned, in_progress, done or dropped.")] = None,
        owner_role: Annotated[Optional[str], typer.Option(help="A role, never a person's name.")] = None,
        due: DateOpt = None,
        note: Annotated[Optional[str], typer.Option()] = None,
    ) -> None:
        """Move a followed-up action on."""
        from assistant.auth import SYSTEM
        from assistant.learning import ActionPlan, ActionStatus, update_action

        try:
            plan = ActionPlan(owner_role=owner_role, due_date=_day(due), note=note,
                              status=ActionStatus(status) if status else None)
            updated = update_action(_runtime().db, SYSTEM, action_id, plan)
        except ValueError as error:
            raise typer.BadParameter(str(error)) from error
        except DebriefError as error:
            _fail(error)
        console.print(_t("action_updated", id=updated.id, status=updated.status.value))
