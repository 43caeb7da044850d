"""The open part, without login: public approved learning points, their counts for citizens (small counts withheld,
see ``assistant.learning.public_counts``) and the receipt-code status page."""

from __future__ import annotations

from html import escape

import gradio as gr
import pandas as pd

from assistant.auth import PUBLIC
from assistant.chat import similar_cases
from assistant.learning.public_counts import OTHERS, PublicDashboard, PublicTable, public_dashboard
from ui import status_tab
from ui.public_report import build_report_tab
from ui.context import AppContext, friendly_errors, t
from ui.labels import Labels, language_switch
from ui.render import category_label


def hits_html(hits, language: str) -> str:
    if not hits:
        return f"<p>{escape(t('public.nothing', language))}</p>"
    return "".join(
        f'<div class="db-point"><h4>{escape(h.title)}</h4><p class="db-meta">'
        f"{escape(category_label(h.category, language))} · {escape(t('sector.' + h.sector, language))}"
        + (f" · {escape(h.reference)}" if h.reference else "") + "</p>"
        f"<p>{escape(h.text)}</p></div>"
        for h in hits
    )


DIMENSIONS = ("category", "sector", "month")


def bucket_label(dimension: str, key: str, language: str) -> str:
    """What a reader calls a bucket: the category's or sector's name, the month as ``yyyy-mm``, or "others"."""
    if key == OTHERS:
        return t("public.others", language)
    if dimension == "category":
        return category_label(key, language)
    return t(f"sector.{key}", language) if dimension == "sector" else key


def count_plot(table: PublicTable, dimension: str, language: str) -> gr.BarPlot:
    """Bars only for counts that are shown; starts at zero so a single bar does not vanish. Without a bar it is
    hidden: an empty chart is an unlabelled graphic to a screen reader, and the table beside it says it all."""
    rows = [(bucket_label(dimension, b.key, language), b.points) for b in table.buckets if b.points is not None]
    frame = pd.DataFrame(rows, columns=["label", "points"])
    return gr.BarPlot(value=frame, sort=[label for label, _ in rows] or None,
                      y_lim=[0, max([n for _, n in rows] + [1])], visible=bool(rows))


def count_table(table: PublicTable, dimension: str, threshold: int, language: str) -> pd.DataFrame:
    """The plot's text alternative: every row, a withheld count written as "fewer than k"."""
    fewer = t("public.fewer_than", language, min=threshold)
    rows = [(bucket_label(dimension, b.key, language), str(b.points) if b.points is not None else fewer)
            for b in table.buckets]
    return pd.DataFrame(rows, columns=[t(f"public.col_{dimension}", language), t("public.col_points", language)])


def dashboard_outputs(data: PublicDashboard, language: str) -> list:
    """Summary, then plot and table per dimension, then the list of points (the order of ``build_public``)."""
    summary = (t("public.total", language, total=data.total) if data.enough
               else t("public.too_few", language, min=data.threshold))
    out: list = [summary]
    for dimension in DIMENSIONS:
        table = getattr(data, f"by_{dimension}")
        out += [count_plot(table, dimension, language), count_table(table, dimension, data.threshold, language)]
    out.append(pd.DataFrame([(p.reference, p.title) for p in data.points],
                            columns=[t("public.col_reference", language), t("public.col_title", language)]))
    return out


def build_dashboard(ctx: AppContext, labels: Labels) -> list[gr.components.Component]:
    """The open dashboard's components, in :func:`dashboard_outputs` order; every plot has its sentence and table."""
    least = ctx.runtime.settings.public_min_count

    def sentence(key: str, **kwargs) -> gr.Markdown:
        return labels.make(gr.Markdown, None, attr="value", extra=lambda lang: {"value": t(key, lang, min=least)},
                           **kwargs)

    sentence("public.dashboard_intro")
    components: list = [gr.Markdown(elem_id="db-public-total")]
    for dimension in DIMENSIONS:
        components.append(labels.make(
            gr.BarPlot, f"public.by_{dimension}", x="label", y="points", elem_id=f"db-public-by-{dimension}",
            x_label_angle=0 if dimension == "month" else -35,
            extra=lambda lang, d=dimension: {"x_title": t(f"public.col_{d}", lang),
                                             "y_title": t("public.col_points", lang)}))
        sentence(f"public.by_{dimension}_says", elem_id=f"db-public-by-{dimension}-says")
        components.append(labels.make(gr.Dataframe, f"public.table_{dimension}", interactive=False,
                                      elem_id=f"db-public-table-{dimension}"))
    labels.markdown("public.points_list_says")
    components.append(labels.make(gr.Dataframe, "public.points_list", interactive=False, wrap=True,
                                  elem_id="db-public-points"))
    return components


def build_public(ctx: AppContext, head_css: str = "") -> gr.Blocks:
    """Anonymous readers act as the public role: the library only lets them see points marked public."""
    labels = Labels(ctx.runtime.settings.ui_language)
    with gr.Blocks(title="Debrief", analytics_enabled=False) as public:
        with gr.Row():
            labels.markdown("public.title", elem_id="db-title")
            labels.markdown("public.log_in", elem_id="db-who")
            lang = language_switch(labels)
        with gr.Tab(t("public.tab_points", labels.language)) as points_tab:
            labels.markdown("public.intro")
            with gr.Row():
                query = labels.make(gr.Textbox, "public.query", scale=5)
                search = labels.button("public.search", variant="primary", scale=1)
            found = gr.HTML()
        labels.register(points_tab, "public.tab_points")
        with gr.Tab(t("public.tab_dashboard", labels.language), elem_id="db-public-dashboard") as dashboard_tab:
            dashboard = build_dashboard(ctx, labels)
        labels.register(dashboard_tab, "public.tab_dashboard")
        with gr.Tab(t("report.tab", labels.language), elem_id="db-public-report") as report_tab:
            build_report_tab(ctx, labels, lang)  # a patient or relative tells about an event (ui/public_report.py)
        labels.register(report_tab, "report.tab")
        with gr.Tab(t("tab.status", labels.language)) as status:
            status_tab.build_receipt_lookup(ctx, labels, lang)
        labels.register(status, "tab.status")

        @friendly_errors
        def search_public(language, query_value):
            result = similar_cases(ctx.runtime.index, PUBLIC, query_value or "", k=ctx.runtime.settings.retrieval_k)
            return hits_html([] if result.nothing_similar else result.hits, language)

        @friendly_errors
        def show_dashboard(language):
            data = public_dashboard(ctx.runtime.db, PUBLIC, ctx.runtime.settings.public_min_count)
            return dashboard_outputs(data, language)

        public.load(show_dashboard, lang, dashboard, api_name="public_dashboard")
        lang.change(show_dashboard, lang, dashboard, api_visibility="private")
        search.click(search_public, [lang, query], found, api_name="search_public")
        query.submit(search_public, [lang, query], found, api_visibility="private")
        lang.change(labels.updates, lang, labels.components, api_visibility="private")
    return public
