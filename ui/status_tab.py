"""Status: a reporter follows a case by receipt code (no account needed), or sees their own cases when logged in."""

from __future__ import annotations

import gradio as gr

from assistant.review import (
    ReporterStatus,
    answer_question_as_reporter,
    answer_question_by_receipt,
    my_cases,
    status_by_receipt,
)
from assistant.review.case_thread import MESSAGE_MAX_CHARS, reply_as_reporter, reply_by_receipt
from ui.context import AppContext, client_of, friendly_errors, t
from ui.labels import Labels
from ui.render import message_html, status_html


def question_choices(statuses: list[ReporterStatus]) -> list[tuple[str, str]]:
    """The open questions as dropdown choices (point title and the start of the question)."""
    return [(f"{q.reference} {q.title} – {q.question[:60]}".strip(), q.point_id)
            for s in statuses for q in s.questions]


def _choices_update(choices):
    return gr.update(choices=choices or [], value=choices[0][1] if choices else None)


def answer_form(labels: Labels) -> tuple[gr.Dropdown, gr.Textbox, gr.Button]:
    """Where the team answers a question the learning agent sent back with a learning point."""
    point = labels.make(gr.Dropdown, "status.question_point", choices=[], allow_custom_value=True)
    answer = labels.make(gr.Textbox, "status.answer", lines=3, max_length=4000,
                         extra=lambda lang: {"placeholder": t("status.answer_placeholder", lang)})
    send = labels.button("status.send_answer")
    return point, answer, send


def reply_form(labels: Labels) -> tuple[gr.Textbox, gr.Button]:
    """Where the reporter writes to the learning agent in the case's thread (any time, not only to a question)."""
    reply = labels.make(gr.Textbox, "thread.reply", lines=3, max_length=MESSAGE_MAX_CHARS,
                        extra=lambda lang: {"placeholder": t("thread.reply_placeholder", lang)})
    return reply, labels.button("thread.send")


def build_receipt_lookup(ctx: AppContext, labels: Labels, lang: gr.Dropdown) -> None:
    """The receipt-code form: also in the public app, for reporters without an account."""
    labels.markdown("status.intro")
    with gr.Row():
        code = labels.make(gr.Textbox, "status.code", scale=4, max_length=64)
        look_up = labels.button("status.look_up", variant="primary", scale=1)
    result = gr.HTML()
    point, answer, send = answer_form(labels)
    reply, send_reply = reply_form(labels)
    # Server-side only (a State is not part of the API's answer): the questions of the last lookup.
    questions = gr.State([])

    @friendly_errors
    def by_receipt(language, code_value, request: gr.Request):
        found = status_by_receipt(ctx.runtime.db, (code_value or "").strip(), client=client_of(request),
                                  limiter=ctx.receipt_limiter)
        return status_html(found, language), question_choices([found])

    @friendly_errors
    def answer_by_receipt(language, code_value, point_value, answer_value, request: gr.Request):
        found = answer_question_by_receipt(ctx.runtime.db, ctx.runtime.components.pseudonymiser,
                                           (code_value or "").strip(), point_value or "", answer_value or "",
                                           client=client_of(request), limiter=ctx.receipt_limiter)
        html = message_html(t("status.answer_sent", language), "ok") + status_html(found, language)
        return html, "", question_choices([found])

    @friendly_errors
    def write_by_receipt(language, code_value, reply_value, request: gr.Request):
        code_value = (code_value or "").strip()
        reply_by_receipt(ctx.runtime.db, ctx.runtime.components.pseudonymiser, code_value, reply_value or "",
                         client=client_of(request), limiter=ctx.receipt_limiter, message_limiter=ctx.message_limiter)
        # The page shown after sending is the status as the sender now sees it, thread included.
        found = status_by_receipt(ctx.runtime.db, code_value)
        return message_html(t("thread.sent", language), "ok") + status_html(found, language), ""

    send_reply.click(write_by_receipt, [lang, code, reply], [result, reply], api_name="reply_by_receipt")
    look_up.click(by_receipt, [lang, code], [result, questions], api_name="status_by_receipt").success(
        _choices_update, questions, point, api_visibility="private")
    code.submit(by_receipt, [lang, code], [result, questions], api_visibility="private").success(
        _choices_update, questions, point, api_visibility="private")
    send.click(answer_by_receipt, [lang, code, point, answer], [result, answer, questions],
               api_name="answer_question_by_receipt").success(_choices_update, questions, point,
                                                              api_visibility="private")


def build(ctx: AppContext, labels: Labels, lang: gr.Dropdown) -> None:
    build_receipt_lookup(ctx, labels, lang)
    mine_button = labels.button("status.my_cases")
    mine = gr.HTML()
    point, answer, send = answer_form(labels)
    questions = gr.State([])
    reply_case = labels.make(gr.Dropdown, "thread.reply_case", choices=[], allow_custom_value=True)
    reply, send_reply = reply_form(labels)
    own = gr.State([])  # the reporter's cases as dropdown choices, from the last listing

    @friendly_errors
    def own_cases(language, request: gr.Request):
        cases = my_cases(ctx.runtime.db, ctx.actor(request))
        if not cases:
            return f"<p>{t('status.no_cases', language)}</p>", [], []
        return ("".join(status_html(case, language) for case in cases), question_choices(cases),
                [(c.reference or c.case_id, c.case_id) for c in cases])

    @friendly_errors
    def write_as_reporter(language, case_value, reply_value, request: gr.Request):
        actor = ctx.actor(request)
        reply_as_reporter(ctx.runtime.db, ctx.runtime.components.pseudonymiser, actor, case_value or "",
                          reply_value or "", message_limiter=ctx.message_limiter)
        cases = my_cases(ctx.runtime.db, actor)
        return message_html(t("thread.sent", language), "ok") + "".join(status_html(c, language) for c in cases), ""

    @friendly_errors
    def answer_as_reporter(language, point_value, answer_value, request: gr.Request):
        actor = ctx.actor(request)
        answer_question_as_reporter(ctx.runtime.db, ctx.runtime.components.pseudonymiser, actor, point_value or "",
                                    answer_value or "")
        cases = my_cases(ctx.runtime.db, actor)
        html = message_html(t("status.answer_sent", language), "ok") + "".join(status_html(c, language) for c in cases)
        return html, "", question_choices(cases)

    listed = mine_button.click(own_cases, [lang], [mine, questions, own], api_name="my_cases")
    listed.success(_choices_update, questions, point, api_visibility="private")
    listed.success(_choices_update, own, reply_case, api_visibility="private")
    send_reply.click(write_as_reporter, [lang, reply_case, reply], [mine, reply], api_name="reply_as_reporter")
    send.click(answer_as_reporter, [lang, point, answer], [mine, answer, questions],
               api_name="answer_question").success(_choices_update, questions, point, api_visibility="private")
