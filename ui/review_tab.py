"""Review (learning agents): queue, a case's drafts beside their evidence, decisions and feedback to the reporter."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from assistant.cases import segment_clip
from assistant.errors import InvalidInput
from assistant.i18n import translate
from assistant.models import CaseStatus, Sector, Severity
from assistant.review import (
    PointEdit,
    QueueFilters,
    RejectReason,
    approve,
    draft_feedback,
    edit_point,
    open_case,
    reject,
    release_feedback,
    reopen,
    review_queue,
    save_feedback,
    send_back,
)
from assistant.review.similarity_judgements import judge_similarity, similar_for_review
from ui import thread_panel
from ui.linked_accounts_panel import build_linked_accounts
from ui.context import AppContext, friendly_errors, t
from ui.debrief_tab import parse_date
from ui.filters import case_filter_inputs, category_choices
from ui.labels import Labels
from ui.render import case_html, category_label, message_html

# A click on an evidence link (render.point_html) scrolls to and marks its transcript line here; when the
# case kept its audio, it also fires this component's "cite" event, which plays that part of the recording.
EVIDENCE_LINK_JS = """
if (!element.dataset.dbCites) {
  element.dataset.dbCites = 'on';
  element.addEventListener('click', (event) => {
    const link = event.target.closest ? event.target.closest('a.db-cite') : null;
    if (!link || !element.contains(link)) return;
    event.preventDefault();
    const segment = link.dataset.segment;
    element.querySelectorAll('.db-cited-line').forEach((line) => line.classList.remove('db-cited-line'));
    const line = element.querySelector('#seg-' + segment);
    if (line) {
      line.classList.add('db-cited-line');
      line.scrollIntoView({behavior: 'smooth', block: 'center'});
    }
    const view = link.closest('[data-case]');
    if (view && view.dataset.audio === 'kept') trigger('cite', {segment: Number(segment), case: view.dataset.case});
  });
}
"""

QUEUE_COLUMNS = ("case_id", "status", "sector", "unit", "event_date", "event_type", "pending_points", "categories")


def queue_headers(language: str) -> list[str]:
    return t("review.queue_headers", language).split("|")



OPEN_STATUSES = tuple(QueueFilters().statuses)  # what the queue shows when no status is chosen


def status_choices(language: str) -> list[tuple[str, str]]:
    return [(t(f"case_status.{s.value}", language), s.value) for s in CaseStatus]


def reason_choices(language: str) -> list[tuple[str, str]]:
    return [(translate(f"review.reason_{r.value}", language), r.value) for r in RejectReason]


def visibility_choices(language: str) -> list[tuple[str, str]]:
    return [(t("review.visibility_staff", language), "staff"), (t("review.visibility_public", language), "public")]


def similar_headers(language: str) -> list[str]:
    return t("review.similar_headers", language).split("|")


def judgement_label(similar: bool | None, language: str) -> str:
    """This agent's verdict on a pair as a word ("Ligner" / "Ligner ikke"), or a dash before any."""
    return "–" if similar is None else t("review.similar_yes" if similar else "review.similar_no", language)


def build(ctx: AppContext, labels: Labels, lang: gr.Dropdown) -> None:
    runtime = ctx.runtime
    with gr.Accordion(t("review.filters", "da"), open=False) as filters_box:
        with gr.Row():
            sectors, unit, category, since, until = case_filter_inputs(labels)
            statuses = labels.make(gr.Dropdown, "review.statuses", multiselect=True,
                                   value=[s.value for s in OPEN_STATUSES],
                                   extra=lambda lang: {"choices": status_choices(lang)})
    labels.register(filters_box, "review.filters")
    refresh = labels.button("review.refresh")
    queue = labels.make(gr.Dataframe, "review.queue", interactive=False, wrap=True,
                        extra=lambda lang: {"headers": queue_headers(lang)})
    with gr.Row():
        case_id = labels.make(gr.Dropdown, "review.case", choices=[], allow_custom_value=True)
        open_button = labels.button("review.open")
    with gr.Row():
        with gr.Column(scale=3):
            case_view = gr.HTML(js_on_load=EVIDENCE_LINK_JS, elem_id="db-review-case")
        with gr.Column(scale=2):
            evidence_audio = labels.make(gr.Audio, "review.evidence_audio", interactive=False, autoplay=True,
                                         editable=False, buttons=[], elem_id="db-evidence-audio")
            cited_segment = gr.Number(visible=False, precision=0)  # for API callers of evidence_clip
            play_button = gr.Button(visible=False)
            point_id = labels.make(gr.Dropdown, "review.point", choices=[], allow_custom_value=True)
            visibility = labels.make(gr.Radio, "review.visibility", value="staff",
                                     extra=lambda lang: {"choices": visibility_choices(lang)})
            note = labels.make(gr.Textbox, "review.note", lines=2)
            with gr.Row():
                approve_button = labels.button("review.approve", variant="primary")
                reopen_button = labels.button("review.reopen")
            reason = labels.make(gr.Dropdown, "review.reason", value=RejectReason.not_a_learning_point.value,
                                 extra=lambda lang: {"choices": reason_choices(lang)})
            reject_button = labels.button("review.reject", variant="stop")
            question = labels.make(gr.Textbox, "review.question", lines=2)
            send_back_button = labels.button("review.send_back")
            with gr.Accordion(t("review.edit", "da"), open=False) as edit_box:
                title = labels.make(gr.Textbox, "review.title")
                what_happened = labels.make(gr.Textbox, "review.what_happened", lines=4)
                edit_category = labels.make(gr.Dropdown, "review.category",
                                            extra=lambda lang: {"choices": category_choices(lang)})
                severity = labels.make(gr.Dropdown, "review.severity", choices=[s.value for s in Severity])
                save_edit = labels.button("review.save_edit")
            labels.register(edit_box, "review.edit")
            action_message = gr.HTML()
    # Approved earlier cases like this one; the agent's "similar" / "not similar" becomes evaluation data.
    with gr.Accordion(t("review.similar", "da"), open=False) as similar_box:
        similar_table = labels.make(gr.Dataframe, "review.similar_list", interactive=False, wrap=True,
                                    extra=lambda lang: {"headers": similar_headers(lang)})
        with gr.Row():
            similar_other = labels.make(gr.Dropdown, "review.similar_other", choices=[], allow_custom_value=True,
                                        scale=2)
            similar_note = labels.make(gr.Textbox, "review.similar_note", scale=3)
        with gr.Row():
            similar_find = labels.button("review.similar_find")
            similar_yes = labels.button("review.similar_yes", variant="primary")
            similar_no = labels.button("review.similar_no")
        similar_message = gr.HTML()
    labels.register(similar_box, "review.similar")
    with gr.Accordion(t("review.feedback", "da"), open=False) as feedback_box:
        feedback_text = labels.make(gr.Textbox, "review.feedback_text", lines=6)
        with gr.Row():
            draft_button = labels.button("review.feedback_draft")
            save_button = labels.button("review.feedback_save")
            release_button = labels.button("review.feedback_release", variant="primary")
        feedback_message = gr.HTML()
    labels.register(feedback_box, "review.feedback")
    thread_panel.build_review_thread(ctx, labels, lang, case_id, open_button)
    build_linked_accounts(ctx, labels, lang, case_id, open_button)  # a patient's account beside the debrief

    @friendly_errors
    def load_queue(language, sectors_value, unit_value, category_value, since_value, until_value,
                   statuses_value, request: gr.Request):
        filters = QueueFilters(sectors=[Sector(s) for s in sectors_value or []], unit=unit_value or None,
                               category=category_value or None, since=parse_date(since_value),
                               until=parse_date(until_value),
                               statuses=[CaseStatus(s) for s in statuses_value or OPEN_STATUSES])
        items = review_queue(runtime.db, ctx.actor(request), filters)
        rows = [
            {**item.model_dump(include=set(QUEUE_COLUMNS)),
             "case_id": item.reference or item.case_id,  # what people read and say; the id stays the value
             "sector": t(f"sector.{item.sector}", language),
             "status": t(f"case_status.{item.status}", language),
             "event_date": str(item.event_date or ""),
             "categories": ", ".join(category_label(c, language) for c in item.categories)}
            for item in items
        ]
        frame = pd.DataFrame(rows, columns=list(QUEUE_COLUMNS))
        frame.columns = queue_headers(language)
        choices = [(f"{i.reference or i.case_id} · {i.unit or '-'} · {i.event_type or '-'}"
                    + (f" · {t('review.from_patient', language)}" if i.reporter_type != "staff" else ""), i.case_id)
                   for i in items]
        return frame, gr.update(choices=choices, value=choices[0][1] if choices else None)

    @friendly_errors
    def show_case(language, case_value, request: gr.Request):
        if not case_value:
            return "", gr.update(choices=[], value=None)
        case = open_case(runtime.db, ctx.actor(request), case_value)
        # Points drafted from a patient's or relative's account say so wherever the agent picks them.
        origin = f" · {t('review.from_patient', language)}" if case.reporter_type != "staff" else ""
        choices = [(f"{p.reference or p.position + 1} · {p.title} "
                    f"({translate(f'review.status_{p.status}', language)}){origin}", p.id)
                   for p in case.learning_points]
        marker = message_html(t("review.from_patient", language)) if origin else ""
        return (marker + case_html(case, language, evidence_links=True,
                                   low_confidence=runtime.settings.low_confidence),
                gr.update(choices=choices, value=choices[0][1] if choices else None))

    @friendly_errors
    def play_evidence(language, case_value, segment_value, evt: gr.EventData, request: gr.Request):
        # From the page the clicked citation (and the case shown) come with the event; API callers pass values.
        data = getattr(evt, "_data", None)
        data = data if isinstance(data, dict) else {}
        segment = data["segment"] if data.get("segment") is not None else segment_value
        case_value = data.get("case") or case_value
        if not case_value or segment is None or segment == "":
            return None
        try:
            index = int(segment)
        except (TypeError, ValueError):
            raise InvalidInput("input.invalid", reason=str(segment)[:40]) from None
        clip = segment_clip(runtime.db, runtime.settings, ctx.actor(request), case_value, index)
        return clip.sample_rate, clip.as_pcm16()

    @friendly_errors
    def point_fields(language, case_value, point_value, request: gr.Request):
        if not case_value or not point_value:
            return "", "", None, None
        case = open_case(runtime.db, ctx.actor(request), case_value)
        for point in case.learning_points:
            if point_value in (point.id, point.reference):
                return point.title, point.what_happened, point.category, point.severity
        return "", "", None, None

    def decided(language: str, key: str) -> str:
        return message_html(t(key, language), "ok")

    @friendly_errors
    def do_approve(language, point_value, visibility_value, note_value, request: gr.Request):
        approve(runtime.db, runtime.index, ctx.actor(request), point_value, visibility=visibility_value or "staff",
                note=note_value or None)
        return decided(language, "review.approved")

    @friendly_errors
    def do_reject(language, point_value, reason_value, note_value, request: gr.Request):
        reject(runtime.db, runtime.index, ctx.actor(request), point_value, reason=reason_value or "",
               note=note_value or None)
        return decided(language, "review.rejected")

    @friendly_errors
    def do_send_back(language, point_value, question_value, request: gr.Request):
        send_back(runtime.db, ctx.actor(request), point_value, question=question_value or "")
        return decided(language, "review.sent_back")

    @friendly_errors
    def do_reopen(language, point_value, note_value, request: gr.Request):
        reopen(runtime.db, runtime.index, ctx.actor(request), point_value, note=note_value or None)
        return decided(language, "review.reopened")

    @friendly_errors
    def do_edit(language, point_value, title_value, what_value, category_value, severity_value, request: gr.Request):
        edit = PointEdit(title=title_value or None, what_happened=what_value or None,
                         category=category_value or None, severity=severity_value or None)
        edit_point(runtime.db, runtime.index, ctx.actor(request), point_value, edit)
        return decided(language, "review.edited")

    @friendly_errors
    def do_draft_feedback(language, case_value, request: gr.Request):
        return draft_feedback(runtime.db, runtime.components.chat, ctx.actor(request), case_value)

    @friendly_errors
    def do_save_feedback(language, case_value, text, request: gr.Request):
        save_feedback(runtime.db, ctx.actor(request), case_value, text)
        return message_html(t("review.feedback_saved", language), "ok")

    @friendly_errors
    def do_release_feedback(language, case_value, text, request: gr.Request):
        release_feedback(runtime.db, ctx.actor(request), case_value, text)
        return message_html(t("review.feedback_released", language), "ok")

    def similar_frame(language, found) -> pd.DataFrame:
        rows = [[f.reference or f.case_id, f"{f.score:.2f}", "; ".join(f.titles), judgement_label(f.similar, language)]
                for f in found]
        return pd.DataFrame(rows, columns=similar_headers(language))

    @friendly_errors
    def show_similar(language, case_value, request: gr.Request):
        if not case_value:
            return similar_frame(language, []), gr.update(choices=[], value=None)
        found = similar_for_review(runtime.db, runtime.index, ctx.actor(request), case_value)
        choices = [(f"{f.reference or f.case_id} · {f.titles[0] if f.titles else ''}", f.case_id) for f in found]
        return similar_frame(language, found), gr.update(choices=choices, value=choices[0][1] if choices else None)

    @friendly_errors
    def refresh_similar(language, case_value, request: gr.Request):
        # After a judgement only the verdicts change: the agent's choice of case stays where it was.
        found = similar_for_review(runtime.db, runtime.index, ctx.actor(request), case_value) if case_value else []
        return similar_frame(language, found)

    def judge(language, case_value, other_value, note_value, request: gr.Request, *, similar: bool) -> str:
        if not case_value or not other_value:
            raise InvalidInput("input.invalid", reason=t("review.similar_other", language))
        judged = judge_similarity(runtime.db, ctx.actor(request), case_value, other_value, similar,
                                  note_value or None)
        case_ref = judged.case_a_reference or judged.case_a_id
        other_ref = judged.case_b_reference or judged.case_b_id
        if case_value not in (judged.case_a_id, judged.case_a_reference):  # say it the way round the agent asked
            case_ref, other_ref = other_ref, case_ref
        key = "review.similar_saved_yes" if similar else "review.similar_saved_no"
        return message_html(t(key, language, case=case_ref, other=other_ref), "ok")

    @friendly_errors
    def do_judge_similar(language, case_value, other_value, note_value, request: gr.Request):
        return judge(language, case_value, other_value, note_value, request, similar=True)

    @friendly_errors
    def do_judge_not_similar(language, case_value, other_value, note_value, request: gr.Request):
        return judge(language, case_value, other_value, note_value, request, similar=False)

    filters = [lang, sectors, unit, category, since, until, statuses]
    refresh.click(load_queue, filters, [queue, case_id], api_name="review_queue")
    open_button.click(show_case, [lang, case_id], [case_view, point_id], api_name="open_case")
    open_button.click(lambda: None, None, evidence_audio, api_visibility="private")  # no clip of the last case
    case_view.cite(play_evidence, [lang, case_id, cited_segment], evidence_audio, api_name="play_clicked_evidence",
                   api_visibility="private")
    play_button.click(play_evidence, [lang, case_id, cited_segment], evidence_audio, api_name="evidence_clip")
    point_id.change(point_fields, [lang, case_id, point_id], [title, what_happened, edit_category, severity],
                    api_name="point_fields")

    def refreshed(event) -> None:
        # A decision changes the case: show it fresh (without its own API endpoint).
        event.success(show_case, [lang, case_id], [case_view, point_id], api_visibility="private")

    refreshed(approve_button.click(do_approve, [lang, point_id, visibility, note], action_message,
                                   api_name="approve"))
    refreshed(reject_button.click(do_reject, [lang, point_id, reason, note], action_message, api_name="reject"))
    refreshed(send_back_button.click(do_send_back, [lang, point_id, question], action_message,
                                     api_name="send_back"))
    refreshed(reopen_button.click(do_reopen, [lang, point_id, note], action_message, api_name="reopen"))
    refreshed(save_edit.click(do_edit, [lang, point_id, title, what_happened, edit_category, severity],
                              action_message, api_name="edit_point"))
    draft_button.click(do_draft_feedback, [lang, case_id], feedback_text, api_name="draft_feedback")
    save_button.click(do_save_feedback, [lang, case_id, feedback_text], feedback_message, api_name="save_feedback")
    release_button.click(do_release_feedback, [lang, case_id, feedback_text], feedback_message,
                         api_name="release_feedback")
    similar_find.click(show_similar, [lang, case_id], [similar_table, similar_other], api_name="similar_for_review")
    open_button.click(show_similar, [lang, case_id], [similar_table, similar_other], api_visibility="private")
    for button, handler, name in ((similar_yes, do_judge_similar, "judge_similar"),
                                  (similar_no, do_judge_not_similar, "judge_not_similar")):
        button.click(handler, [lang, case_id, similar_other, similar_note], similar_message, api_name=name).success(
            refresh_similar, [lang, case_id], similar_table, api_visibility="private")
