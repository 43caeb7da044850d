"""The open part, without login: public approved learning points and the receipt-code status page."""

from __future__ import annotations

from html import escape

import gradio as gr

from assistant.auth import PUBLIC
from assistant.chat import similar_cases
from ui import status_tab
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
        with gr.Tab(t("tab.status", labels.language)) as status:
            status_tab.build_receipt_lookup(ctx, labels, lang)
        labels.register(status, "tab.status")

        @friendly_errors
        def search_public(language, query_value):
            result = similar_cases(ctx.runtime.index, PUBLIC, query_value or "", k=ctx.runtime.settings.retrieval_k)
            return hits_html([] if result.nothing_similar else result.hits, language)

        search.click(search_public, [lang, query], found, api_name="search_public")
        query.submit(search_public, [lang, query], found, api_visibility="private")
        lang.change(labels.updates, lang, labels.components, api_visibility="private")
    return public
