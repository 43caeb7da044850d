"""Review: the thread with the case's reporter, and the box where the learning agent writes to them."""

from __future__ import annotations

import gradio as gr

from assistant.review.case_thread import MESSAGE_MAX_CHARS, thread_for_case, write_to_reporter
from ui.context import AppContext, friendly_errors, t
from ui.labels import Labels
from ui.render import message_html, thread_html


def build_review_thread(ctx: AppContext, labels: Labels, lang: gr.Dropdown, case_id: gr.Dropdown,
                        open_button: gr.Button) -> None:
    """An accordion under the case: its messages (shown again when the case is opened) and a box to write."""
    runtime = ctx.runtime
    with gr.Accordion(t("thread.review_box", "da"), open=False) as thread_box:
        thread_view = gr.HTML(elem_id="db-review-thread")
        text = labels.make(gr.Textbox, "thread.write", lines=3, max_length=MESSAGE_MAX_CHARS,
                           extra=lambda lang: {"placeholder": t("thread.write_placeholder", lang)})
        with gr.Row():
            show = labels.button("thread.show")
            send = labels.button("thread.send_to_reporter", variant="primary")
        sent_message = gr.HTML()
    labels.register(thread_box, "thread.review_box")

    @friendly_errors
    def show_thread(language, case_value, request: gr.Request):
        if not case_value:
            return ""
        return thread_html(thread_for_case(runtime.db, ctx.actor(request), case_value), language)

    @friendly_errors
    def write(language, case_value, text_value, request: gr.Request):
        messages = write_to_reporter(runtime.db, runtime.components.pseudonymiser, ctx.actor(request),
                                     case_value or "", text_value or "")
        return message_html(t("thread.sent_to_reporter", language), "ok"), thread_html(messages, language), ""

    show.click(show_thread, [lang, case_id], thread_view, api_name="case_thread")
    open_button.click(show_thread, [lang, case_id], thread_view, api_visibility="private")
    send.click(write, [lang, case_id, text], [sent_message, thread_view, text], api_name="write_to_reporter")
