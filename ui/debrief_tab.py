"""Debrief: hand in a recording (upload or microphone) or typed notes, follow the job, read the draft."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import gradio as gr

from assistant.auth import Permission
from assistant.cases import load_case
from assistant.errors import InvalidInput
from assistant.intake import submit_notes, submit_recording
from assistant.jobs import job_progress
from assistant.models import CaseContext, JobStatus, Sector
from ui.context import AppContext, friendly_errors, t
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
        raise InvalidInput("input.invalid", reason=f"dato / date '{text[:20]}' (ÅÅÅÅ-MM-DD)") from error


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
    progress = gr.HTML()
    draft = gr.HTML()
    submitted = gr.State(None)  # {case_id, job_id, kind}: server-side, so nobody can watch someone else's case

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
        actor.require(Permission.submit)  # intake itself takes no actor, so the role is checked here
        runtime = ctx.runtime
        if audio_path and (notes_text or "").strip():
            # One submission is one case: typed notes would otherwise be dropped without a word.
            raise InvalidInput("ui.debrief.both_given")
        if audio_path:
            submission = submit_recording(runtime.db, runtime.settings, Path(audio_path), case_context,
                                          reporter_id=actor.user_id)
        else:
            submission = submit_notes(runtime.db, runtime.settings, notes_text or "", case_context,
                                      reporter_id=actor.user_id)
        ctx.wake_worker()
        key = "debrief.duplicate" if submission.duplicate else "debrief.received"
        state = {"case_id": submission.case_id, "job_id": submission.job_id, "kind": "audio" if audio_path else "notes"}
        return message_html(t(key, language, case_id=submission.case_id)), submission.receipt_code or "", state

    @friendly_errors
    def watch(language, state):
        """Poll the job about once a second until it ends, then show the draft."""
        if not state:
            yield "", ""
            return
        db = ctx.runtime.db
        deadline = time.monotonic() + WATCH_LIMIT_SECONDS
        while True:
            progress_now = job_progress(db, state["job_id"])
            html = progress_html(progress_now, language, source_kind=state["kind"])
            if progress_now.status in (JobStatus.done, JobStatus.failed) or time.monotonic() > deadline:
                break
            yield html, ""
            time.sleep(POLL_SECONDS)
        yield html, case_html(load_case(db, state["case_id"]), language)

    submit_button.click(
        submit, [lang, recording, notes, *context, keep_audio], [message, receipt, submitted], api_name="submit",
    ).success(watch, [lang, submitted], [progress, draft], api_name="watch",
              concurrency_limit=WATCHERS)  # watching only sleeps and reads: many people may watch at once

