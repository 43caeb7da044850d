"""Status: a reporter follows a case by receipt code (no account needed), or sees their own cases when logged in."""

from __future__ import annotations

import gradio as gr

from assistant.reporter_status import my_cases, status_by_receipt
from ui.context import AppContext, client_of, friendly_errors, t
from ui.labels import Labels
from ui.render import status_html


def build_receipt_lookup(ctx: AppContext, labels: Labels, lang: gr.Dropdown) -> None:
    """The receipt-code form: also in the public app, for reporters without an account."""
    labels.markdown("status.intro")
    with gr.Row():
        code = labels.make(gr.Textbox, "status.code", scale=4, max_length=64)
        look_up = labels.button("status.look_up", variant="primary", scale=1)
    result = gr.HTML()

    @friendly_errors
    def by_receipt(language, code_value, request: gr.Request):
        found = status_by_receipt(ctx.runtime.db, (code_value or "").strip(), client=client_of(request),
                                  limiter=ctx.receipt_limiter)
        return status_html(found, language)

    look_up.click(by_receipt, [lang, code], result, api_name="status_by_receipt")
    code.submit(by_receipt, [lang, code], result, api_visibility="private")


def build(ctx: AppContext, labels: Labels, lang: gr.Dropdown) -> None:
    build_receipt_lookup(ctx, labels, lang)
    mine_button = labels.button("status.my_cases")
    mine = gr.HTML()

    @friendly_errors
    def own_cases(language, request: gr.Request):
        cases = my_cases(ctx.runtime.db, ctx.actor(request))
        if not cases:
            return f"<p>{t('status.no_cases', language)}</p>"
        return "".join(status_html(case, language) for case in cases)

    mine_button.click(own_cases, [lang], mine, api_name="my_cases")
