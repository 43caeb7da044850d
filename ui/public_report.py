"""The open page's "Tell us about an event": a patient or relative tells what happened, typed or spoken, without a
login. The library (``assistant.intake.public_report``) does the checking, limiting and queueing; this only asks."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from assistant.intake import PublicReportLimits, submit_public_report
from assistant.models import ReporterType
from ui.context import AppContext, client_of, friendly_errors, t
from ui.labels import Labels
from ui.render import message_html


def who_choices(language: str) -> list[tuple[str, str]]:
    """Who is telling: the patient or a relative (staff hand in through the logged-in Debrief tab)."""
    return [(t(f"report.who_{kind.value}", language), kind.value)
            for kind in (ReporterType.patient, ReporterType.relative)]


def build_report_tab(ctx: AppContext, labels: Labels, lang: gr.Dropdown,
                     limits: PublicReportLimits | None = None) -> None:
    """The tab's parts and its handler ``/report_event``; ``limits`` are shared by every visitor of this app."""
    settings = ctx.runtime.settings
    limits = limits or PublicReportLimits.from_settings(settings)
    labels.markdown("report.intro")
    who = labels.make(gr.Radio, "report.who", extra=lambda lang: {"choices": who_choices(lang)},
                      elem_id="db-report-who")
    text = labels.make(
        gr.Textbox, None, lines=8, max_lines=30, elem_id="db-report-text",
        extra=lambda lang: {"label": t("report.text", lang, limit=settings.public_report_max_chars),
                            "placeholder": t("report.text_placeholder", lang)},
    )
    recording = labels.make(
        gr.Audio, None, sources=["microphone"], type="filepath", elem_id="db-report-recording",
        visible=settings.public_report_audio,  # the open page takes no uploads unless spoken accounts are on
        extra=lambda lang: {"label": t("report.recording", lang,
                                       minutes=round(settings.public_report_max_audio_seconds / 60))},
    )
    labels.markdown("report.consent_text")
    consent = labels.make(gr.Checkbox, "report.consent", value=False, elem_id="db-report-consent")
    send = labels.button("report.submit", variant="primary")
    message = gr.HTML()
    receipt = labels.make(gr.Textbox, "report.receipt", interactive=False, buttons=["copy"],
                          elem_id="db-report-receipt")
    labels.markdown("report.what_next")

    @friendly_errors
    def report_event(language, who_value, text_value, audio_path, consent_value, request: gr.Request):
        try:
            submission = submit_public_report(
                ctx.runtime.db, settings, limits, client_of(request), reporter_type=who_value or "",
                consent=bool(consent_value), text=text_value, recording=Path(audio_path) if audio_path else None,
            )
        finally:
            if audio_path:
                # The library keeps its own copy under a generated name; Gradio's upload copy must not linger.
                Path(audio_path).unlink(missing_ok=True)
        ctx.wake_worker()
        return message_html(t("report.received", language)), submission.receipt_code or ""

    send.click(report_event, [lang, who, text, recording, consent], [message, receipt], api_name="report_event")
