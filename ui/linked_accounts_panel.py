"""Review: a patient's or relative's account beside the team's debrief of the same event, and the box that links
the two (``assistant.review.linked_accounts`` checks the role and audits)."""

from __future__ import annotations

from html import escape

import gradio as gr

from assistant.cases import CaseView
from assistant.review import LinkedCase, link_account, linked_cases, open_case
from ui.context import AppContext, friendly_errors, t
from ui.labels import Labels
from ui.render import message_html


def _column(title: str, reference: str, text: str, side: str) -> str:
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n") if p.strip())
    return (f'<div class="db-linked-{side}" style="flex:1;min-width:0"><h4>{escape(title)}'
            f'{" · " + escape(reference) if reference else ""}</h4>{paragraphs}</div>')


def side_by_side_html(case: CaseView, linked: list[LinkedCase], language: str) -> str:
    """The staff case's transcript on the left, each linked account on the right (texts are pseudonymised)."""
    if not linked:
        return f"<p>{escape(t('review.linked_none', language))}</p>"
    own_text = "\n\n".join(s.text for s in case.segments)
    staff_title, account_title = t("review.linked_staff", language), t("review.linked_account", language)
    rows = []
    for other in linked:
        if case.reporter_type == "staff":
            left = _column(staff_title, case.reference, own_text, "staff")
            right = _column(account_title, other.reference, other.text, "account")
        else:
            left = _column(staff_title, other.reference, other.text, "staff")
            right = _column(account_title, case.reference, own_text, "account")
        rows.append(f'<div class="db-linked-pair" style="display:flex;gap:1.5em">{left}{right}</div>')
    return "".join(rows)


def build_linked_accounts(ctx: AppContext, labels: Labels, lang: gr.Dropdown, case_id: gr.Dropdown,
                          open_button: gr.Button) -> None:
    """An accordion under the case: linked accounts side by side (shown when the case is opened) and a link box."""
    runtime = ctx.runtime
    with gr.Accordion(t("review.linked_box", "da"), open=True) as linked_box:
        linked_view = gr.HTML(elem_id="db-review-linked")
        with gr.Row():
            other = labels.make(gr.Textbox, "review.link_other", scale=3)
            link = labels.button("review.link", scale=1)
        link_message = gr.HTML()
    labels.register(linked_box, "review.linked_box")

    def _shown(language: str, case_value: str, request: gr.Request) -> str:
        actor = ctx.actor(request)
        case = open_case(runtime.db, actor, case_value)
        return side_by_side_html(case, linked_cases(runtime.db, actor, case_value), language)

    @friendly_errors
    def show_linked(language, case_value, request: gr.Request):
        return _shown(language, case_value, request) if case_value else ""

    @friendly_errors
    def do_link(language, case_value, other_value, request: gr.Request):
        link_account(runtime.db, ctx.actor(request), case_value or "", (other_value or "").strip())
        return message_html(t("review.linked_done", language), "ok"), _shown(language, case_value, request)

    open_button.click(show_linked, [lang, case_id], linked_view, api_name="linked_accounts")
    link.click(do_link, [lang, case_id, other], [link_message, linked_view], api_name="link_account")
