"""Citations in the web app, through its API (gradio_client): evidence in Review links to the transcript and
plays the kept recording; answers in Ask link their cited points, and nothing else in them becomes markup.

The app runs for real on a loopback port; speech-to-text, pseudonymisation and drafting are the small fakes,
and Ask's model is a scripted stand-in that cites [1] amid markup a model could write.
"""

from __future__ import annotations

import re
import uuid
import wave
from collections.abc import Iterator

import pytest
from gradio_client import Client, handle_file

from assistant.jobs import pipeline
from tests.support.fakes import fake_draft
from tests.ui.test_ui_api import (
    RunningApp,
    case_of,
    message_text,
    open_case,
    point_reference_of,
    serve_app,
    submit_notes,
)
from ui.render import escape_markdown, parse_citation_target

HOSTILE_ANSWER = ("Dobbeltkontrol ved vagtskifte fangede fejlen <script>alert(1)</script> og "
                  "[se her](http://evil.example) ![x](http://evil.example/x.png) [1].")
QUESTION = "Har vi set fejl med insulin ved vagtskifte?"


class ScriptedChat:
    """Streams one fixed answer word by word, as a model would."""

    model_id = "scripted-llm"

    def __init__(self, answer: str):
        self.answer = answer

    def stream(self, messages, max_tokens):
        yield from re.findall(r"\S+\s*", self.answer)

    def complete_json(self, messages, schema, max_tokens):
        raise AssertionError("drafting is faked in these tests")


@pytest.fixture(scope="module")
def running_app(tmp_path_factory) -> Iterator[RunningApp]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "draft_case", fake_draft)
        with serve_app(tmp_path_factory.mktemp("ui-citations"), ScriptedChat(HOSTILE_ANSWER)) as app:
            yield app


def submit_recording(app: RunningApp, client: Client, tmp_path, opening: str, *, keep_audio: bool) -> str:
    """Hand in a real ~8 s spoken recording (a new ``opening`` each time: the same audio twice is one case)
    and wait for its draft; returns the case id."""
    from tests.support.audio_factory import concat, speak

    words = speak(opening, tmp_path / "a.wav")
    more = speak("We found it at the double check and talked openly about it afterwards.", tmp_path / "b.wav")
    recording = concat([words, more], tmp_path / f"debrief-{uuid.uuid4().hex}.wav", gap_seconds=1.0)
    message, _receipt = client.predict("da", handle_file(str(recording)), "", "hospital", "Medicinsk afdeling",
                                       "", "", keep_audio, api_name="/submit")
    progress, _draft = client.predict("da", api_name="/watch")
    assert "Færdig" in progress, progress
    return case_of(app, {"message": message})


def wav_seconds(path: str) -> float:
    with wave.open(path, "rb") as clip:
        return clip.getnframes() / clip.getframerate()


def test_evidence_links_to_its_transcript_line_and_plays_the_kept_recording(running_app, tmp_path):
    case_id = submit_recording(running_app, running_app.client("rita"), tmp_path,
                               "The patient received a double dose of insulin.",
                               keep_audio=True)
    agent = running_app.client("lars")
    html, _points = agent.predict("da", case_id, api_name="/open_case")
    assert '<li id="seg-0">' in html and 'href="#seg-0"' in html and 'data-segment="0"' in html
    assert 'data-audio="kept"' in html

    clip = agent.predict("da", case_id, 1, api_name="/evidence_clip")  # the fake transcript's 2–4 s line
    assert wav_seconds(clip) == pytest.approx(4.0, abs=0.02)
    assert wav_seconds(agent.predict("da", case_id, 0, api_name="/evidence_clip")) == pytest.approx(3.0, abs=0.02)

    with pytest.raises(Exception, match="rolle"):
        running_app.client("sofie").predict("da", case_id, 1, api_name="/evidence_clip")


def test_evidence_of_a_case_without_kept_audio_links_but_does_not_play(running_app, tmp_path):
    case_id = submit_recording(running_app, running_app.client("rita"), tmp_path,
                               "The infusion pump alarm went off at night.",
                               keep_audio=False)
    agent = running_app.client("lars")
    html, _points = agent.predict("da", case_id, api_name="/open_case")
    assert 'href="#seg-0"' in html and 'data-audio="kept"' not in html
    with pytest.raises(Exception, match="ikke gemt"):
        agent.predict("da", case_id, 1, api_name="/evidence_clip")


def test_an_answer_links_its_citations_and_shows_model_markup_as_text(running_app):
    shown = submit_notes(running_app.client("rita"), "Jens fik dobbelt dosis insulin ved vagtskiftet. Mette "
                                                     "opdagede det ved dobbeltkontrollen.")
    case_id = case_of(running_app, shown)
    agent = running_app.client("lars")
    point_id = open_case(agent, case_id)
    agent.predict("da", point_id, "staff", "", api_name="/approve")

    staff = running_app.client("sofie")
    history = staff.predict("da", QUESTION, [], [], "", "", "", "", "all", api_name="/ask")[0]
    assert message_text(history[0]) == r"Har vi set fejl med insulin ved vagtskifte\?"  # shown as typed
    answer = message_text(history[-1])
    # Only our citation label is a link; the model's script, link and image are escaped to plain text.
    links = re.findall(r"\]\((#cite-[^ )]+)", answer)
    assert len(links) == 1, answer
    cited_case, cited_point = parse_citation_target(links[0])
    assert (cited_case, cited_point) == (case_id, point_id)  # the only approved point so far
    reference = point_reference_of(running_app, point_id)
    assert f"[[{reference}]](#cite-{cited_case}-{cited_point}" in answer  # people read the reference
    assert "<script>" not in answer and r"\<script\>" in answer
    assert "](http" not in answer and r"\[se her\]\(http\:" in answer and r"\!\[x\]" in answer

    # Before the model's first word, the retrieved points were listed and could be opened.
    job = staff.submit("da", QUESTION, [], [], "", "", "", "", "all", api_name="/ask")
    job.result()
    waiting = [message_text(out[0][-1]) for out in job.outputs() if out[0] and out[0][-1]["role"] == "assistant"]
    listed = next(text for text in waiting if text)
    assert listed.startswith("*Fandt 1 lignende læringspunkter"), waiting
    assert escape_markdown(f"[{reference}]") in listed, waiting
    assert waiting[-1] == answer

    cited_html = staff.predict("da", links[0], api_name="/open_citation")
    assert f"Læringspunkt {reference}" in cited_html and "Dobbeltkontrol af insulin ved vagtskifte" in cited_html
    assert 'class="db-point db-point-cited"' in cited_html
    assert "Jens" not in cited_html and "db-transcript" not in cited_html  # approved points only, no transcript


def test_a_citation_link_opens_only_what_the_role_may_read(running_app):
    shown = submit_notes(running_app.client("rita"), "Pumpen alarmerede ved vagtskiftet, og alarmen blev hørt i tide.")
    case_id = case_of(running_app, shown)
    agent = running_app.client("lars")
    point_id = open_case(agent, case_id)
    agent.predict("da", point_id, "staff", "", api_name="/approve")
    target = f"#cite-{case_id}-{point_id}"

    opened = running_app.client("sofie").predict("da", target, api_name="/open_citation")
    assert f"Læringspunkt {point_reference_of(running_app, point_id)}" in opened
    # A reporter reads public points only: the staff-only point stays closed even with its link.
    with pytest.raises(Exception, match="findes ikke"):
        running_app.client("rita").predict("da", target, api_name="/open_citation")
    with pytest.raises(Exception, match="kan ikke bruges"):
        running_app.client("sofie").predict("da", "javascript:alert(1)", api_name="/open_citation")


def test_only_the_references_an_answer_cited_become_links():
    from assistant.chat import Citation
    from ui.render import answer_markdown

    cited = Citation(case_id="c1", learning_point_id="p1", title="Insulin [ved] vagtskifte",
                     reference="UTH-2026-0142/2", case_reference="UTH-2026-0142")
    shown = answer_markdown("Dobbeltkontrol hjalp [UTH-2026-0142/2]. Ikke [UTH-2026-0142/3] eller [se her](http://x).",
                            [cited])
    assert '[[UTH-2026-0142/2]](#cite-c1-p1 "Insulin \\[ved\\] vagtskifte")' in shown
    assert r"\[UTH\-2026\-0142\/3\]" in shown and "](http" not in shown  # not cited: plain text
    assert parse_citation_target("#cite-c1-p1") == ("c1", "p1")
