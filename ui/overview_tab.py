"""Overview: trends by category, sector, unit and month, what went well beside what went wrong, the review
backlog and how fast decisions come; themes across cases; the monthly report; and the follow-up of actions."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

import gradio as gr
import pandas as pd

from assistant.i18n import translate
from assistant.learning import (
    FORMATS,
    ActionPlan,
    ActionStatus,
    IndexVectors,
    build_report,
    find_patterns,
    list_actions,
    markdown_text,
    overview,
    render,
    render_markdown,
    track_action,
    update_action,
)
from ui.context import AppContext, friendly_errors, t
from ui.debrief_tab import date_box, parse_date
from ui.labels import Labels
from ui.render import category_label

REPORTS_DIR = Path(tempfile.gettempdir()) / "debrief-reports"
REPORT_KEEP_SECONDS = 3600  # Gradio copies the file into its own (hourly swept) cache; ours go after an hour too


def tr(key: str, language: str, **params) -> str:
    """A label of the learning-across-cases area (``learning.toml``)."""
    return translate(f"learning.ui.{key}", language, **params)


def own(labels: Labels, cls: type, key: str, *, attr: str = "label", extra=None, **kwargs):
    """A component labelled from ``learning.toml`` that follows the language switch like the ``ui.toml`` ones."""
    def texts(language: str) -> dict:
        return {attr: tr(key, language), **(extra(language) if extra else {})}

    return labels.make(cls, None, extra=texts, **kwargs)


def axes(language: str, x: str, y: str, color: str | None = None) -> dict:
    titles = {"x_title": t(f"overview.axis_{x}", language), "y_title": t(f"overview.axis_{y}", language)}
    if color:
        titles["color_title"] = t(f"overview.axis_{color}", language)
    return titles


def learning_axes(language: str, x: tuple[str, str], y: tuple[str, str], color: tuple[str, str] | None = None):
    """Axis titles where some come from ``learning.toml`` (("learning", key)) and some from ``ui.toml``."""
    def title(pair: tuple[str, str]) -> str:
        area, key = pair
        return tr(key, language) if area == "learning" else t(f"overview.{key}", language)

    titles = {"x_title": title(x), "y_title": title(y)}
    if color:
        titles["color_title"] = title(color)
    return titles


def plot(cls, frame, y: str):
    """Counts start at zero (a single bar otherwise gets a one-value axis and disappears); stacks add up."""
    top = float(frame.groupby(frame.columns[0])[y].sum().max()) if len(frame) else 0
    return cls(value=frame, y_lim=[0, max(top, 1)])


def this_month() -> str:
    today = dt.date.today()
    return f"{today.year:04d}-{today.month:02d}"


def _sector(value: str, language: str) -> str:
    return t(f"sector.{value}", language)


def _keep_recent_reports() -> Path:
    """A fresh folder for one report; folders older than an hour are removed."""
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    for old in REPORTS_DIR.iterdir():
        if old.is_dir() and time.time() - old.stat().st_mtime > REPORT_KEEP_SECONDS:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=REPORTS_DIR))


def build(ctx: AppContext, labels: Labels, lang: gr.Dropdown) -> None:
    with gr.Row():
        since = date_box(labels, "common.since")
        until = date_box(labels, "common.until")
        refresh = labels.button("overview.refresh", variant="primary")
    summary = gr.Markdown()
    with gr.Row():
        by_category = labels.make(gr.BarPlot, "overview.by_category", x="category", y="points", color="status",
                                  x_label_angle=-35,
                                  extra=lambda lang: axes(lang, "category", "points", "status"))
        by_sector = labels.make(gr.BarPlot, "overview.by_sector", x="sector", y="cases",
                                extra=lambda lang: axes(lang, "sector", "cases"))
    by_month = labels.make(gr.BarPlot, "overview.by_month", x="month", y="cases",
                           extra=lambda lang: axes(lang, "month", "cases"))
    with gr.Row():
        by_outcome = own(labels, gr.BarPlot, "by_outcome", x="month", y="points", color="outcome",
                                 elem_id="db-by-outcome",
                                 extra=lambda lang: learning_axes(lang, ("ui", "axis_month"), ("ui", "axis_points"),
                                                                  ("learning", "axis_outcome")))
        by_unit = own(labels, gr.BarPlot, "by_unit", x="unit", y="cases", color="sector", x_label_angle=-35,
                              elem_id="db-by-unit",
                              extra=lambda lang: learning_axes(lang, ("learning", "axis_unit"), ("ui", "axis_cases"),
                                                               ("ui", "axis_sector")))
    with gr.Row():
        backlog = own(labels, gr.BarPlot, "backlog", x="month", y="open_points", elem_id="db-backlog",
                              extra=lambda lang: learning_axes(lang, ("ui", "axis_month"), ("learning", "axis_open")))
        decision_days = own(labels, gr.LinePlot, "decision_days", x="month", y="median_days",
                                    elem_id="db-decision-days",
                                    extra=lambda lang: learning_axes(lang, ("ui", "axis_month"),
                                                                     ("learning", "axis_days")))

    @friendly_errors
    def show(language, since_value, until_value, request: gr.Request):
        data = overview(ctx.runtime.db, ctx.actor(request), since=parse_date(since_value),
                        until=parse_date(until_value))
        categories = data.by_category.assign(
            category=[category_label(c, language) for c in data.by_category["category"]],
            status=[translate(f"review.status_{s}", language) for s in data.by_category["status"]],
        )
        sectors = data.by_sector.assign(sector=[t(f"sector.{s}", language) for s in data.by_sector["sector"]])
        median = (t("overview.days", language, days=data.median_days_to_decision)
                  if data.median_days_to_decision is not None else "–")
        text = t("overview.summary", language, cases=data.cases_total, awaiting=data.cases_awaiting_review,
                 open_points=data.points_awaiting_decision, approved=data.points_approved,
                 rejected=data.points_rejected, median=median)
        return (text, plot(gr.BarPlot, categories, "points"), plot(gr.BarPlot, sectors, "cases"),
                plot(gr.BarPlot, data.by_month, "cases"))

    @friendly_errors
    def show_trends(language, since_value, until_value, request: gr.Request):
        data = overview(ctx.runtime.db, ctx.actor(request), since=parse_date(since_value),
                        until=parse_date(until_value))
        outcome = data.by_outcome.assign(outcome=[tr(f"outcome_{o}", language) for o in data.by_outcome["outcome"]])
        units = data.by_unit.head(15).assign(sector=[_sector(s, language) for s in data.by_unit.head(15)["sector"]])
        return (plot(gr.BarPlot, outcome, "points"), plot(gr.BarPlot, units, "cases"),
                plot(gr.BarPlot, data.backlog, "open_points"), plot(gr.LinePlot, data.decision_days, "median_days"))

    refresh.click(show, [lang, since, until], [summary, by_category, by_sector, by_month], api_name="overview") \
        .then(show_trends, [lang, since, until], [by_outcome, by_unit, backlog, decision_days], api_name="trends")

    build_patterns(ctx, labels, lang, since, until)
    build_report_section(ctx, labels, lang)
    build_actions(ctx, labels, lang)


def build_patterns(ctx: AppContext, labels: Labels, lang: gr.Dropdown, since, until) -> None:
    with own(labels, gr.Accordion, "patterns", open=True):
        own(labels, gr.Markdown, "patterns_intro", attr="value")
        with gr.Row():
            with_ai = own(labels, gr.Checkbox, "name_with_ai", value=False)
            find = own(labels, gr.Button, "find_patterns", attr="value", variant="secondary")
        themes = gr.Markdown(elem_id="db-themes")
        with gr.Row():
            over_time = own(labels, gr.LinePlot, "themes_by_month", x="month", y="points", color="theme",
                                    elem_id="db-themes-by-month",
                                    extra=lambda lang: learning_axes(lang, ("ui", "axis_month"), ("ui", "axis_points"),
                                                                     ("learning", "axis_theme")))
            across = own(labels, gr.BarPlot, "themes_by_sector", x="theme", y="points", color="sector",
                         x_label_angle=-35,
                                 elem_id="db-themes-by-sector",
                                 extra=lambda lang: learning_axes(lang, ("learning", "axis_theme"),
                                                                  ("ui", "axis_points"), ("ui", "axis_sector")))

    @friendly_errors
    def show_patterns(language, since_value, until_value, name_with_ai, request: gr.Request):
        runtime = ctx.runtime
        found = find_patterns(runtime.db, IndexVectors(runtime.index), ctx.actor(request),
                              since=parse_date(since_value), until=parse_date(until_value),
                              chat=runtime.components.chat if name_with_ai else None)
        if not found.themes:
            return tr("no_themes", language), gr.LinePlot(value=None), gr.BarPlot(value=None)
        lines = []
        for theme in found.themes:
            sectors = ", ".join(f"{_sector(s, language)} {n}" for s, n in theme.sectors.items())
            source = translate(f"learning.label_{theme.label_source}", language)
            crossing = f" · ↔ {translate('learning.crosses_sectors', language)}" if theme.crosses_sectors else ""
            lines.append("- " + tr("theme_line", language, id=theme.id, label=markdown_text(theme.label),
                                   size=theme.size, sectors=sectors, source=source) + crossing
                         + "  \n  " + tr("theme_cites", language, ids=", ".join(f"`{i}`" for i in theme.cited_ids)))
        sectors = found.by_sector().assign(sector=lambda f: [_sector(s, language) for s in f["sector"]])
        return ("\n".join(lines), plot(gr.LinePlot, found.by_month(), "points"), plot(gr.BarPlot, sectors, "points"))

    find.click(show_patterns, [lang, since, until, with_ai], [themes, over_time, across], api_name="patterns")


def build_report_section(ctx: AppContext, labels: Labels, lang: gr.Dropdown) -> None:
    with own(labels, gr.Accordion, "report", open=False):
        with gr.Row():
            month = own(labels, gr.Textbox, "report_month", value=this_month(), max_length=7)
            fmt = own(labels, gr.Dropdown, "report_format", choices=list(FORMATS), value="pdf")
            audience = own(labels, gr.Dropdown, "report_audience", value="staff",
                                   extra=lambda lang: {"choices": [(tr("audience_staff", lang), "staff"),
                                                                   (tr("audience_public", lang), "public")]})
            with_ai = own(labels, gr.Checkbox, "name_with_ai", value=True)
        make = own(labels, gr.Button, "make_report", attr="value", variant="secondary")
        file = own(labels, gr.File, "report_file", interactive=False, elem_id="db-report-file")
        preview = gr.Markdown(elem_id="db-report-preview")

    @friendly_errors
    def make_report(language, month_value, fmt_value, audience_value, name_with_ai, request: gr.Request):
        runtime = ctx.runtime
        report = build_report(runtime.db, IndexVectors(runtime.index), ctx.actor(request), month_value or "",
                              settings=runtime.settings, chat=runtime.components.chat if name_with_ai else None,
                              audience="public" if audience_value == "public" else "staff")
        fmt_value = fmt_value if fmt_value in FORMATS else "pdf"
        path = _keep_recent_reports() / f"debrief-report-{report.month}.{fmt_value}"
        path.write_bytes(render(report, fmt_value, language))
        return str(path), render_markdown(report, language)

    make.click(make_report, [lang, month, fmt, audience, with_ai], [file, preview], api_name="report")


ACTION_COLUMNS = ("col_id", "col_action", "col_owner", "col_due", "col_status", "col_point")


def build_actions(ctx: AppContext, labels: Labels, lang: gr.Dropdown) -> None:
    with own(labels, gr.Accordion, "actions", open=False):
        show_button = own(labels, gr.Button, "actions_refresh", attr="value", variant="secondary")
        table = own(labels, gr.Dataframe, "actions_table", interactive=False, wrap=True,
                            elem_id="db-actions")
        with gr.Row():
            point = own(labels, gr.Textbox, "action_point", max_length=32)
            number = own(labels, gr.Number, "action_choice", precision=0, minimum=1, value=1)
            text = own(labels, gr.Textbox, "action_text", max_length=500)
        with gr.Row():
            action_id = own(labels, gr.Textbox, "action_id", max_length=32)
            owner = own(labels, gr.Textbox, "action_owner", max_length=120)
            due = own(labels, gr.Textbox, "action_due", max_length=10,
                      extra=lambda lang: {"placeholder": t("common.date_placeholder", lang)})
            status = own(labels, gr.Dropdown, "action_status", value=ActionStatus.planned.value,
                                 extra=lambda lang: {"choices": [(translate(f"learning.action_{s.value}", lang),
                                                                  s.value) for s in ActionStatus]})
        with gr.Row():
            add = own(labels, gr.Button, "action_add", attr="value", variant="secondary")
            change = own(labels, gr.Button, "action_update", attr="value", variant="secondary")
        message = gr.Markdown()

    def rows(language: str, request: gr.Request) -> pd.DataFrame:
        found = list_actions(ctx.runtime.db, ctx.actor(request))
        today = dt.date.today()
        late = f" ({translate('learning.overdue', language)})"
        data = [[a.id, a.action, a.owner_role or "–", f"{a.due_date or '–'}" + (late if a.overdue(today) else ""),
                 translate(f"learning.action_{a.status.value}", language), a.reference or a.learning_point_id]
                for a in found]
        return pd.DataFrame(data, columns=[tr(c, language) for c in ACTION_COLUMNS])

    @friendly_errors
    def show_actions(language, request: gr.Request):
        return rows(language, request)

    @friendly_errors
    def add_action(language, point_id, choice, new_text, owner_role, due_text, status_value, request: gr.Request):
        plan = ActionPlan(owner_role=owner_role or "", due_date=parse_date(due_text), status=ActionStatus(status_value))
        own = (new_text or "").strip()
        track_action(ctx.runtime.db, ctx.actor(request), (point_id or "").strip(),
                     action_index=None if own else int(choice or 1) - 1, action=own or None, plan=plan)
        return tr("action_saved", language), rows(language, request)

    @friendly_errors
    def change_action(language, chosen_id, owner_role, due_text, status_value, request: gr.Request):
        plan = ActionPlan(owner_role=owner_role or None, due_date=parse_date(due_text),
                          status=ActionStatus(status_value) if status_value else None)
        update_action(ctx.runtime.db, ctx.actor(request), (chosen_id or "").strip(), plan)
        return tr("action_saved", language), rows(language, request)

    show_button.click(show_actions, [lang], [table], api_name="actions")
    add.click(add_action, [lang, point, number, text, owner, due, status], [message, table], api_name="track_action")
    change.click(change_action, [lang, action_id, owner, due, status], [message, table], api_name="update_action")
