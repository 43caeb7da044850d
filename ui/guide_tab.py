"""Guide (facilitators): step through a conversation guide with questions, reminders and a timer per phase."""

from __future__ import annotations

import time
from html import escape

import gradio as gr

from assistant.auth import Permission
from assistant.intake import submit_guide_notes
from assistant.models import IsbarPart
from guides import Guide, isbar_label, list_guides, load_guide, phase_notes
from ui.context import AppContext, friendly_errors, t
from ui.debrief_tab import CaseFollow, context_from, context_inputs
from ui.labels import Labels
from ui.render import message_html


def guide_choices(language: str) -> list[tuple[str, str]]:
    return [(g.title.get(language), g.id) for g in list_guides()]


def _items(title: str, texts: list[str]) -> str:
    if not texts:
        return ""
    return f"<h4>{escape(title)}</h4><ul>" + "".join(f"<li>{escape(x)}</li>" for x in texts) + "</ul>"


def phase_html(guide: Guide, number: int, language: str) -> str:
    """The phase's purpose, questions to ask and blame-free reminders (guides are data: escaped all the same)."""
    phase = guide.phases[number]
    part = isbar_label(phase.isbar_part, language) if phase.isbar_part else "–"
    return (
        f'<div class="db-phase"><h3>{number + 1}/{len(guide.phases)} · {escape(phase.title.get(language))}</h3>'
        f'<p class="db-meta">{escape(t("guide.minutes", language, minutes=phase.minutes))} · '
        f'{escape(t("guide.isbar_part", language, part=part))}</p>'
        f"<p>{escape(phase.purpose.get(language))}</p>"
        + _items(t("guide.questions", language), [q.get(language) for q in phase.questions])
        + _items(t("guide.reminders", language), [r.get(language) for r in phase.reminders + phase.tips])
        + "</div>"
    )


def principles_html(guide: Guide, language: str) -> str:
    return _items(t("guide.principles", language), [p.text.get(language) for p in guide.principles])


def clock(started: float | None, minutes: int) -> str:
    elapsed = int(time.monotonic() - started) if started else 0
    over = " ⚠" if elapsed > minutes * 60 else ""
    return f"{elapsed // 60:02d}:{elapsed % 60:02d} / {minutes:02d}:00{over}"


def build(ctx: AppContext, labels: Labels, lang: gr.Dropdown) -> None:
    guides = guide_choices(labels.language)
    with gr.Row():
        guide_id = labels.make(gr.Dropdown, "guide.pick", value=guides[0][1] if guides else None,
                               extra=lambda lang: {"choices": guide_choices(lang)}, scale=4)
        start = labels.button("guide.start", variant="primary", scale=1)
    principles = gr.HTML()
    phase_view = gr.HTML()
    with gr.Row():
        timer_text = labels.make(gr.Textbox, "guide.timer", interactive=False, value="00:00", scale=1)
        previous = labels.button("guide.previous", scale=1)
        following = labels.button("guide.next", scale=1)
    note = labels.make(gr.Textbox, "guide.note", lines=6)
    context = context_inputs(labels)
    submit = labels.button("guide.submit", variant="primary")
    message = gr.HTML()
    receipt = labels.make(gr.Textbox, "debrief.receipt", interactive=False, buttons=["copy"],
                          elem_id="db-guide-receipt")
    ticker = gr.Timer(1.0, active=False)
    # {guide_id, phase, notes: {phase_id: text}, started}: where the facilitator is, kept on the server.
    session = gr.State(None)
    submitted = gr.State(None)  # {case_id, job_id, kind} of the handed-in notes, as on the Debrief tab
    follow = CaseFollow.build(labels, elem_prefix="db-guide")

    def current(state) -> Guide | None:
        return load_guide(state["guide_id"]) if state else None

    @friendly_errors
    def begin(language, chosen, request: gr.Request):
        ctx.actor(request).require(Permission.facilitate)
        guide = load_guide(chosen)
        state = {"guide_id": guide.id, "phase": 0, "notes": {}, "started": time.monotonic()}
        return (state, principles_html(guide, language), phase_html(guide, 0, language), "",
                clock(state["started"], guide.phases[0].minutes), gr.Timer(active=True))

    @friendly_errors
    def move(language, state, note_value, step):
        guide = current(state)
        if guide is None:
            return state, "", note_value, "00:00"
        state = {**state, "notes": {**state["notes"], guide.phases[state["phase"]].id: note_value or ""}}
        state["phase"] = min(max(state["phase"] + step, 0), len(guide.phases) - 1)
        state["started"] = time.monotonic()
        phase = guide.phases[state["phase"]]
        return (state, phase_html(guide, state["phase"], language), state["notes"].get(phase.id, ""),
                clock(state["started"], phase.minutes))

    def tick(state):
        guide = current(state)
        if guide is None:
            return gr.update()
        return clock(state["started"], guide.phases[state["phase"]].minutes)

    @friendly_errors
    def hand_in(language, state, note_value, sector, unit, event_date, event_type, request: gr.Request):
        actor = ctx.actor(request)
        actor.require(Permission.facilitate)  # the library checks again; this refuses before "not started"
        guide = current(state)
        if guide is None:
            return (message_html(t("guide.not_started", language), "error"), "", state, gr.Timer(active=False),
                    None)
        notes = {**state["notes"], guide.phases[state["phase"]].id: note_value or ""}
        pairs = [(text, IsbarPart(part)) for text, part in phase_notes(guide, notes)]
        submission = submit_guide_notes(ctx.runtime.db, ctx.runtime.settings, actor, pairs,
                                        context_from(sector, unit, event_date, event_type), guide_id=guide.id)
        ctx.wake_worker()
        key = "debrief.duplicate" if submission.duplicate else "debrief.received"
        watched = {"case_id": submission.case_id, "job_id": submission.job_id, "kind": "notes"}
        shown_as = submission.reference or submission.case_id
        return (message_html(t(key, language, case=shown_as), "ok"), submission.receipt_code or "",
                None, gr.Timer(active=False), watched)

    start.click(begin, [lang, guide_id], [session, principles, phase_view, note, timer_text, ticker],
                api_name="guide_start")
    previous.click(lambda lang_, s, n: move(lang_, s, n, -1), [lang, session, note],
                   [session, phase_view, note, timer_text], api_name="guide_previous")
    following.click(lambda lang_, s, n: move(lang_, s, n, 1), [lang, session, note],
                    [session, phase_view, note, timer_text], api_name="guide_next")
    ticker.tick(tick, session, timer_text, api_visibility="private", show_progress="hidden")
    handed_in = submit.click(hand_in, [lang, session, note, *context], [message, receipt, session, ticker, submitted],
                             api_name="guide_submit")
    follow.wire(ctx, lang, submitted, handed_in, api_prefix="guide_")
