"""The Debrief tab's word check through the app's API (gradio_client), as the team would use it: hand in a
recording, step to the uncertain words and hear each, correct a line (a typed name is pseudonymised), then
confirm the transcript, which deletes the recording. The app runs for real on loopback with small fakes."""

from __future__ import annotations

import wave

import pytest
from gradio_client import handle_file

from assistant.audit import events_for_case
from tests.support import word_recording
from tests.support.hardening_app import case_id_in, serve_app
from tests.support.word_recording import UnsureTranscriber


@pytest.fixture(scope="module")
def running_app(tmp_path_factory):
    with serve_app(tmp_path_factory.mktemp("word-correction")) as app:
        app.runtime.components.transcriber_ = UnsureTranscriber()
        yield app


def value_of(update) -> str:
    return update["value"] if isinstance(update, dict) else update


def wav_seconds(path: str) -> float:
    with wave.open(path, "rb") as clip:
        return clip.getnframes() / clip.getframerate()


# The check's panel is a layout block: the API leaves it out of each answer, which starts at the line shown.


def test_the_team_steps_through_uncertain_words_hears_them_corrects_a_line_and_confirms(running_app, tmp_path):
    rita = running_app.client("rita")
    message, _receipt = rita.predict("da", handle_file(str(word_recording.recording(tmp_path))), "", "hospital",
                                     "Akutmodtagelsen", "", "", False, api_name="/submit")
    case_id = case_id_in(running_app.runtime.db, message)
    rita.predict("da", api_name="/watch")
    rita.predict("da", api_name="/watch_transcript")

    where, clip, line = rita.predict("da", api_name="/correction_show")
    assert "Usikkert ord 1 af 4" in where and '<mark class="db-low db-focus">gav</mark>' in where
    assert value_of(line) == "Vi gav insulin." and wav_seconds(clip) == pytest.approx(3.2, abs=0.02)

    where, clip, line = rita.predict("da", api_name="/correction_next")
    assert "Usikkert ord 2 af 4" in where and "db-focus\">dosis<" in where
    assert value_of(line) == "[PERSON_1] sagde dosis to." and wav_seconds(clip) == pytest.approx(5.0, abs=0.02)
    where, _clip, _line = rita.predict("da", api_name="/correction_previous")
    assert "db-focus\">gav<" in where
    where, _clip, _line = rita.predict("da", api_name="/correction_previous")  # round to the last one
    assert "Usikkert ord 4 af 4" in where and "db-focus\">gik<" in where
    rita.predict("da", api_name="/correction_previous")
    rita.predict("da", api_name="/correction_previous")  # back on "dosis"

    where, _clip, _line, saved, transcript = rita.predict("da", "Mette sagde dosis 2.",
                                                          api_name="/correction_save")
    assert "Rettelsen er gemt" in saved
    assert "[1] [PERSON_2] sagde dosis 2." in value_of(transcript) and "Mette" not in value_of(transcript)
    assert "Usikkert ord 2 af 2" in where and "db-focus\">gik<" in where  # on to the next word left

    where, clip, _line, confirmed = rita.predict("da", api_name="/confirm_transcript")
    assert "optagelsen er slettet" in confirmed and "Udskriften er bekræftet" in where and clip is None
    assert list(running_app.runtime.settings.audio_dir.iterdir()) == []
    trail = [e["action"] for e in events_for_case(running_app.runtime.db, case_id)]
    assert {"recording_consent", "correct_transcript_line", "confirm_transcript", "recording_deleted"} <= set(trail)


def test_someone_elses_case_shows_no_word_check(running_app):
    rolf = running_app.client("rolf")
    where, clip, line = rolf.predict("da", api_name="/correction_show")
    assert (where, clip, value_of(line)) == ("", None, "")
    with pytest.raises(Exception):
        rolf.predict("da", api_name="/confirm_transcript")
