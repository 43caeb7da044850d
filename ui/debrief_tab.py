"""Debrief: hand in a recording (upload or microphone) or typed notes, follow the job, read the draft."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from assistant.cases import load_case_for, require_case_reader
from assistant.errors import InvalidInput
from assistant.intake import (
    numbered_segments,
    parse_numbered_segments,
    revise_transcript,
    submit_notes,
    submit_recording,
)
from assistant.jobs import job_progress
from assistant.models import CaseContext, JobStatus, Sector
from ui.context import AppContext, friendly_errors, t
from ui.correction import WordCorrection
from ui.labels import Labels
from ui.render import case_html, message_html, progress_html

POLL_SECONDS = 1.0
WATCH_LIMIT_SECONDS = 4 * 60 * 60
WATCHERS = 32


def sector_choices(language: str) -> list[tuple[str, str]]:
    return [(t(f"sector.{s.value}", language), s.value) for s in Sector]


def parse_date(text: str | None) -> dt.date | None:
    """An event date typed as yyyy-mm-dd (or nothing)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise InvalidInput("input.invalid_date", text=text[:20]) from error


def context_from(sector: str | None, unit: str | None, event_date: str | None, event_type: str | None,
                 keep_audio: bool = False) -> CaseContext:
    return CaseContext(sector=Sector(sector or Sector.hospital.value), unit=unit or "",
                       event_date=parse_date(event_date),
                       event_type=event_type or "", keep_audio=bool(keep_audio))


def date_box(labels: Labels, key: str) -> gr.Textbox:
    """A date typed as yyyy-mm-dd, with the format shown in the user's language."""
    return labels.make(gr.Textbox, key, max_length=10,
                       extra=lambda lang: {"placeholder": t("common.date_placeholder", lang)})


def context_inputs(labels: Labels) -> list[gr.components.Component]:
    """Sector, unit, event date and event type: shared by the Debrief and Guide tabs."""
    with gr.Row():
        sector = labels.make(gr.Dropdown, "debrief.sector", extra=lambda lang: {"choices": sector_choices(lang)},
                             value=Sector.hospital.value)
        unit = labels.make(gr.Textbox, "debrief.unit", max_length=200)
        event_date = date_box(labels, "debrief.event_date")
        event_type = labels.make(gr.Textbox, "debrief.event_type", max_length=200)
    return [sector, unit, event_date, event_type]


def build(ctx: AppContext, labels: Labels, lang: gr.Dropdown) -> None:
    labels.markdown("debrief.intro")
    with gr.Row():
        with gr.Column():
            recording = labels.make(gr.Audio, "debrief.recording", sources=["microphone", "upload"], type="filepath")
            keep_audio = labels.make(gr.Checkbox, "debrief.keep_audio", value=False)
        with gr.Column():
            notes = labels.make(gr.Textbox, "debrief.notes", lines=8, max_lines=30,
                                extra=lambda lang: {"placeholder": t("debrief.notes_placeholder", lang)})
    context = context_inputs(labels)
    submit_button = labels.button("debrief.submit", variant="primary")
    message = gr.HTML()
    receipt = labels.make(gr.Textbox, "debrief.receipt", interactive=False, buttons=["copy"], elem_id="db-receipt")
    submitted = gr.State(None)  # {case_id, job_id, kind}: server-side, so nobody can watch someone else's case
    follow = CaseFollow.build(labels, elem_prefix="db")
    correction = WordCorrection.build(labels)

    @friendly_errors
    def submit(language, audio_path, notes_text, sector, unit, event_date, event_type, keep, request: gr.Request):
        try:
            return _submit(language, audio_path, notes_text, context_from(sector, unit, event_date, event_type, keep),
                           ctx.actor(request))
        finally:
            if audio_path:
                # The library keeps its own copy under a generated name; Gradio's upload copy must not linger.
                Path(audio_path).unlink(missing_ok=True)

    def _submit(language: str, audio_path: str | None, notes_text: str | None, case_context: CaseContext, actor):
        runtime = ctx.runtime
        if audio_path and (notes_text or "").strip():
            # One submission is one case: typed notes would otherwise be dropped without a word.
            raise InvalidInput("ui.debrief.both_given")
        # Intake checks the role, and hands an identical earlier case only to someone who may read it.
        if audio_path:
            submission = submit_recording(runtime.db, runtime.settings, Path(audio_path), case_context, actor=actor)
        else:
            submission = submit_notes(runtime.db, runtime.settings, notes_text or "", case_context, actor=actor)
        ctx.wake_worker()
        key = "debrief.duplicate" if submission.duplicate else "debrief.received"
        state = {"case_id": submission.case_id, "job_id": submission.job_id, "kind": "audio" if audio_path else "notes"}
        shown_as = submission.reference or submission.case_id  # what people read; the id stays server-side
        return message_html(t(key, language, case=shown_as)), submission.receipt_code or "", state

    handed_in = submit_button.click(
        submit, [lang, recording, notes, *context, keep_audio], [message, receipt, submitted], api_name="submit",
    )
    shown = follow.wire(ctx, lang, submitted, handed_in, api_prefix="")
    correction.wire(ctx, lang, submitted, shown, follow.transcript)


def watch_job(ctx: AppContext):
    """The handler that follows a handed-in case: bars per stage about once a second, then the draft.

    Shared by the Debrief and Guide tabs. The case is read for the logged-in actor, so a state that somehow
    named someone else's case shows nothing of it.
    """

    @friendly_errors
    def watch(language, state, request: gr.Request):
        if not state:
            yield "", ""
            return
        db = ctx.runtime.db
        actor = ctx.actor(request)
        require_case_reader(db, actor, state["case_id"])
        deadline = time.monotonic() + WATCH_LIMIT_SECONDS
        while True:
            progress_now = job_progress(db, state["job_id"])
            html = progress_html(progress_now, language, source_kind=state["kind"])
            if progress_now.status in (JobStatus.done, JobStatus.failed) or time.monotonic() > deadline:
                break
            yield html, ""
            time.sleep(POLL_SECONDS)
        yield html, case_html(load_case_for(db, actor, state["case_id"]), language,
                              low_confidence=ctx.runtime.settings.low_confidence)

    return watch


@dataclass
class CaseFollow:
    """What follows a hand-in on the Debrief and Guide tabs: progress, the draft, and the transcript to correct
    before drafting again."""

    progress: gr.HTML
    draft: gr.HTML
    transcript: gr.Textbox
    redraft: gr.Button
    redraft_message: gr.HTML

    @classmethod
    def build(cls, labels: Labels, *, elem_prefix: str) -> CaseFollow:
        progress = gr.HTML()
        draft = gr.HTML()
        transcript = labels.make(gr.Textbox, "debrief.transcript_edit", lines=8, max_lines=40, visible=False,
                                 elem_id=f"{elem_prefix}-transcript-edit",
                                 extra=lambda lang: {"info": t("debrief.transcript_edit_info", lang)})
        redraft = labels.button("debrief.redraft", visible=False, elem_id=f"{elem_prefix}-redraft")
        redraft_message = gr.HTML()
        return cls(progress, draft, transcript, redraft, redraft_message)

    def wire(self, ctx: AppContext, lang: gr.Dropdown, submitted: gr.State, handed_in, *, api_prefix: str) -> list:
        """Chain the watch (then the editable transcript) after ``handed_in``, and the Redraft button into it;
        returns the events that showed the transcript, for what follows it."""
        watch = watch_job(ctx)

        @friendly_errors
        def editable(language, state, request: gr.Request):
            """The case's pseudonymised transcript as ``[index] text`` lines, once there is one to correct."""
            if not state:
                return gr.update(visible=False), gr.update(visible=False)
            case = load_case_for(ctx.runtime.db, ctx.actor(request), state["case_id"])
            if not case.segments:
                return gr.update(visible=False), gr.update(visible=False)
            text = numbered_segments([(s.index, s.text) for s in case.segments])
            return gr.update(value=text, visible=True), gr.update(visible=True)

        @friendly_errors
        def redraft(language, state, text, request: gr.Request):
            if not state:
                raise InvalidInput("case.revision_no_transcript")
            runtime = ctx.runtime
            submission = revise_transcript(runtime.db, runtime.components, ctx.actor(request), state["case_id"],
                                           parse_numbered_segments(text or ""))
            ctx.wake_worker()
            shown_as = submission.reference or submission.case_id
            return (message_html(t("debrief.redraft_queued", language, case=shown_as), "ok"),
                    {**state, "job_id": submission.job_id})

        def follow(event, name: str):
            # Watching only sleeps and reads: many people may watch at once.
            return event.success(watch, [lang, submitted], [self.progress, self.draft], api_name=name,
                                 concurrency_limit=WATCHERS,
                                 ).success(editable, [lang, submitted], [self.transcript, self.redraft],
                                           api_name=f"{name}_transcript")

        shown = [follow(handed_in, f"{api_prefix}watch")]
        queued = self.redraft.click(redraft, [lang, submitted, self.transcript], [self.redraft_message, submitted],
                                    api_name=f"{api_prefix}redraft")
        return [*shown, follow(queued, f"{api_prefix}redraft_watch")]

