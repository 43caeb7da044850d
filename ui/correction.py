"""The Debrief tab's word check: step through the words the recogniser was unsure of, hear each in the recording,
correct its line, and confirm the transcript (which lets the recording go). The logic is in assistant.cases
(``correction_view``, ``word_clip``) and assistant.intake (``correct_line``, ``confirm_transcript``)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import gradio as gr

from assistant.cases import CorrectionView, correction_view, format_timestamp, load_case_for, word_clip
from assistant.errors import InvalidInput, NotFound
from assistant.intake import confirm_transcript, correct_line, numbered_segments
from ui.context import AppContext, friendly_errors, t
from ui.labels import Labels
from ui.render import message_html


def correction_html(view: CorrectionView, language: str, threshold: float) -> str:
    """Where the person stands, and the line with the word in question marked (escaped text only)."""
    notes = []
    if view.confirmed:
        notes.append(t("debrief.correction_confirmed", language))
    if not view.recording:
        notes.append(t("debrief.correction_no_recording", language))
    meta = "".join(f'<p class="db-meta">{escape(n)}</p>' for n in notes)
    if view.word is None or view.line is None:
        return f'<div class="db-correction"><p>{escape(t("debrief.correction_none", language))}</p>{meta}</div>'
    words = " ".join(
        f'<mark class="db-low db-focus">{escape(w.text)}</mark>' if i == view.word.word_index
        else f'<mark class="db-low">{escape(w.text)}</mark>' if w.probability < threshold else escape(w.text)
        for i, w in enumerate(view.line.words)
    )
    where = t("debrief.correction_where", language, position=view.position, total=view.total,
              index=view.line.index, time=format_timestamp(view.word.start))
    return (f'<div class="db-correction"><p class="db-meta">{escape(where)}</p>'
            f'<p class="db-correction-line">{words}</p>{meta}</div>')


@dataclass
class WordCorrection:
    """The components of the word check; hidden until a recorded case's transcript is there."""

    panel: gr.Group
    where: gr.HTML
    clip: gr.Audio
    previous: gr.Button
    next: gr.Button
    line: gr.Textbox
    save: gr.Button
    confirm: gr.Button
    message: gr.HTML
    place: gr.State  # [segment index, word position] of the word shown, server-side

    @classmethod
    def build(cls, labels: Labels) -> WordCorrection:
        with gr.Group(visible=False, elem_id="db-correction") as panel:
            labels.markdown("debrief.correction_intro")
            where = gr.HTML()
            clip = labels.make(gr.Audio, "debrief.correction_clip", type="numpy", interactive=False,
                               autoplay=True, elem_id="db-correction-clip")
            with gr.Row():
                previous = labels.button("debrief.correction_previous", elem_id="db-correction-previous")
                next_ = labels.button("debrief.correction_next", elem_id="db-correction-next")
            line = labels.make(gr.Textbox, "debrief.correction_line", lines=2, elem_id="db-correction-line")
            with gr.Row():
                save = labels.button("debrief.correction_save", elem_id="db-correction-save")
                confirm = labels.button("debrief.confirm_transcript", variant="primary",
                                        elem_id="db-confirm-transcript")
            message = gr.HTML()
        return cls(panel, where, clip, previous, next_, line, save, confirm, message, gr.State(None))

    def wire(self, ctx: AppContext, lang: gr.Dropdown, submitted: gr.State, shown: list,
             transcript: gr.Textbox) -> None:
        """Load the check once the transcript is shown (``shown``: those events), and wire its buttons."""
        runtime = ctx.runtime
        threshold = runtime.settings.low_confidence
        outputs = [self.panel, self.where, self.clip, self.line, self.place]

        def view_outputs(language, state, place, step, request):
            if not state or state.get("kind") != "audio":
                return gr.update(visible=False), "", None, "", None  # typed notes have nothing to listen to
            actor = ctx.actor(request)
            view = correction_view(runtime.db, actor, state["case_id"], threshold, place, step=step)
            if not view.transcript:
                return gr.update(visible=False), "", None, "", None
            audio = None
            if view.word is not None and view.recording:
                try:
                    clip = word_clip(runtime.db, runtime.settings, actor, view.case_id, view.word)
                    audio = (clip.sample_rate, clip.as_pcm16())
                except (NotFound, InvalidInput):
                    audio = None  # deleted meanwhile, or the word lies past the recording's end: the text still shows
            line = view.line.text if view.line is not None else ""
            place_now = list(view.word.place) if view.word is not None else None
            return gr.update(visible=True), correction_html(view, language, threshold), audio, line, place_now

        def stepper(step: int):
            @friendly_errors
            def handler(language, state, place, request: gr.Request):
                return view_outputs(language, state, place, step, request)
            return handler

        @friendly_errors
        def save(language, state, place, text, request: gr.Request):
            if not state or not place:
                raise InvalidInput("case.revision_no_transcript")
            actor = ctx.actor(request)
            correct_line(runtime.db, runtime.components, actor, state["case_id"], int(place[0]), text or "")
            case = load_case_for(runtime.db, actor, state["case_id"])
            numbered = numbered_segments([(s.index, s.text) for s in case.segments])
            # Step 0 from the corrected word: its line lost its marks, so this lands on the next word to check.
            shown_now = view_outputs(language, state, place, 0, request)
            return (*shown_now, message_html(t("debrief.correction_saved", language), "ok"), numbered)

        @friendly_errors
        def confirm(language, state, place, request: gr.Request):
            if not state:
                raise InvalidInput("case.revision_no_transcript")
            done = confirm_transcript(runtime.db, runtime.settings, ctx.actor(request), state["case_id"])
            shown_now = view_outputs(language, state, place, 0, request)
            return (*shown_now, message_html(t(f"debrief.confirmed_{done.recording}", language), "ok"))

        for index, event in enumerate(shown):
            event.success(stepper(0), [lang, submitted, gr.State(None)], outputs,
                          api_name="correction_show" if index == 0 else None,
                          api_visibility="public" if index == 0 else "private")
        inputs = [lang, submitted, self.place]
        self.next.click(stepper(1), inputs, outputs, api_name="correction_next")
        self.previous.click(stepper(-1), inputs, outputs, api_name="correction_previous")
        self.save.click(save, [*inputs, self.line], [*outputs, self.message, transcript], api_name="correction_save")
        self.confirm.click(confirm, inputs, [*outputs, self.message], api_name="confirm_transcript")
