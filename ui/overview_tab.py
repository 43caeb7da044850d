"""Overview: trends by category, sector and month, the review backlog and how fast decisions come."""

from __future__ import annotations

import gradio as gr

from assistant.i18n import translate
from assistant.overview import overview
from ui.context import AppContext, friendly_errors, t
from ui.debrief_tab import date_box, parse_date
from ui.labels import Labels
from ui.render import category_label


def axes(language: str, x: str, y: str, color: str | None = None) -> dict:
    titles = {"x_title": t(f"overview.axis_{x}", language), "y_title": t(f"overview.axis_{y}", language)}
    if color:
        titles["color_title"] = t(f"overview.axis_{color}", language)
    return titles


def plot(cls, frame, y: str):
    """Counts start at zero (a single bar otherwise gets a one-value axis and disappears); stacks add up."""
    top = int(frame.groupby(frame.columns[0])[y].sum().max()) if len(frame) else 0
    return cls(value=frame, y_lim=[0, max(top, 1)])


def build(ctx: AppContext, labels: Labels, lang: gr.Dropdown) -> None:
    with gr.Row():
        since = date_box(labels, "common.since")
        until = date_box(labels, "common.until")
        refresh = labels.button("overview.refresh", variant="primary")
    summary = gr.Markdown()
    with gr.Row():
        by_category = labels.make(gr.BarPlot, "overview.by_category", x="category", y="points", color="status",
                                  extra=lambda lang: axes(lang, "category", "points", "status"))
        by_sector = labels.make(gr.BarPlot, "overview.by_sector", x="sector", y="cases",
                                extra=lambda lang: axes(lang, "sector", "cases"))
    by_month = labels.make(gr.BarPlot, "overview.by_month", x="month", y="cases",
                           extra=lambda lang: axes(lang, "month", "cases"))

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

    refresh.click(show, [lang, since, until], [summary, by_category, by_sector, by_month], api_name="overview")
