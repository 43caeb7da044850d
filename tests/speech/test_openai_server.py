"""The transcription-server backend (DEBRIEF_TRANSCRIBER=openai) against a real OpenAI-compatible server.

The server (tests/support/transcription_server.py) runs in this process under uvicorn on a free port; one test
has it transcribe with the bundled Whisper base, the others give canned answers to test failures quickly.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from pydantic import SecretStr

from assistant.errors import TranscriptionServerUnavailable, user_message
from assistant.settings import Settings
from assistant.speech import SAMPLE_RATE, OpenAIServerTranscriber, decode_16k_mono, make_transcriber
from tests.support.audio_factory import concat, speak, tone
from tests.support.servers import app_in_thread, free_port
from tests.support.transcription_server import transcription_app, whisper_answer

DANISH = ["Patienten fik den forkerte dosis insulin.", "Sygeplejersken ringede til lægen."]


def server_settings(settings: Settings, url: str, **changes) -> Settings:
    return settings.model_copy(update={"transcriber": "openai", "transcriber_base_url": f"{url}/v1",
                                       "transcriber_model": "whisper-base", **changes})


def one_segment_per_piece(samples: np.ndarray, form: dict) -> dict:
    """A canned verbose_json answer: one segment 0.5-1.5 s into whatever piece was sent."""
    return {"language": "danish", "duration": len(samples) / SAMPLE_RATE, "text": "Noget blev sagt.",
            "segments": [{"id": 0, "start": 0.5, "end": 1.5, "text": " Noget blev sagt."}],
            "words": [{"word": "Noget", "start": 0.5, "end": 0.8}]}


def test_a_danish_clip_comes_back_from_the_server_as_timed_segments(tmp_path: Path, settings: Settings) -> None:
    sentences = [speak(text, tmp_path / f"da{i}.wav", voice="da") for i, text in enumerate(DANISH)]
    clip = concat(sentences, tmp_path / "da.wav", gap_seconds=1.5)
    first_length = len(decode_16k_mono(sentences[0])) / SAMPLE_RATE
    app, received = transcription_app(whisper_answer(settings))

    with app_in_thread(app) as url:
        transcriber = make_transcriber(server_settings(settings, url))
        reported: list[float] = []
        transcript = transcriber.transcribe(clip, progress=reported.append)

    assert isinstance(transcriber, OpenAIServerTranscriber)
    assert transcript.model_id == "openai-server:whisper-base"
    assert transcript.language == "da"
    assert abs(transcript.duration - len(decode_16k_mono(clip)) / SAMPLE_RATE) < 0.01
    assert len(transcript.segments) >= 2 and transcript.text
    assert [s.index for s in transcript.segments] == list(range(len(transcript.segments)))
    assert [s.start for s in transcript.segments] == sorted(s.start for s in transcript.segments)
    assert all(0 <= s.start <= s.end <= transcript.duration + 0.01 for s in transcript.segments)
    assert transcript.segments[0].start < 1.0 and transcript.segments[-1].start > first_length
    assert reported[-1] == 1.0
    assert all(s.words for s in transcript.segments), "the server's word confidence is kept"
    assert all(s.start <= w.start <= w.end <= s.end and 0 <= w.probability <= 1
               for s in transcript.segments for w in s.words)
    form = received.forms[0]
    assert (form["model"], form["language"], form["response_format"]) == ("whisper-base", "da", "verbose_json")
    assert form["timestamp_granularities[]"] == ["segment", "word"]
    assert received.authorization == [None]


def test_a_long_recording_goes_in_pieces_with_times_from_the_start(settings: Settings) -> None:
    audio = np.zeros(5 * SAMPLE_RATE, dtype=np.float32)
    app, received = transcription_app(one_segment_per_piece)

    with app_in_thread(app) as url:
        transcriber = OpenAIServerTranscriber(
            server_settings(settings, url, transcriber_api_key=SecretStr("hemmelig")), chunk_seconds=2.0)
        transcript = transcriber.transcribe(audio)

    assert [s.start for s in transcript.segments] == [0.5, 2.5, 4.5]
    assert [s.end for s in transcript.segments] == [1.5, 3.5, 5.0]  # the last piece is 1 s long
    assert received.authorization == ["Bearer hemmelig"] * 3


def test_words_the_server_lists_apart_are_shared_out_to_their_segments_in_recording_time(settings: Settings) -> None:
    def openai_style(samples: np.ndarray, form: dict) -> dict:
        return {"text": "Noget blev sagt.", "segments": [{"start": 0.5, "end": 1.5, "text": " Noget blev sagt."}],
                "words": [{"word": "Noget", "start": 0.5, "end": 0.8, "probability": 0.3},
                          {"word": "blev", "start": 0.8, "end": 1.1, "probability": 0.9},
                          {"word": "sagt.", "start": 1.1, "end": 1.5, "probability": 0.8}]}

    with app_in_thread(transcription_app(openai_style)[0]) as url:
        transcript = OpenAIServerTranscriber(server_settings(settings, url), chunk_seconds=2.0).transcribe(
            np.zeros(4 * SAMPLE_RATE, dtype=np.float32))

    second = transcript.segments[1]
    assert [(w.text, w.start, w.end, w.probability) for w in second.words] == [
        ("Noget", 2.5, 2.8, 0.3), ("blev", 2.8, 3.1, 0.9), ("sagt.", 3.1, 3.5, 0.8)]
    # OpenAI's own API sends words without probability: with nothing to mark, none are kept.
    with app_in_thread(transcription_app(one_segment_per_piece)[0]) as url:
        plain = OpenAIServerTranscriber(server_settings(settings, url), chunk_seconds=2.0).transcribe(
            np.zeros(2 * SAMPLE_RATE, dtype=np.float32))
    assert plain.segments[0].words == []

    def text_and_words_only(samples: np.ndarray, form: dict) -> dict:
        return {"text": "Stop nu.", "words": [{"word": "Stop", "start": 0.2, "end": 0.6, "probability": 0.4},
                                              {"word": "nu.", "start": 0.6, "end": 0.9, "probability": 0.95}]}

    with app_in_thread(transcription_app(text_and_words_only)[0]) as url:
        bare = OpenAIServerTranscriber(server_settings(settings, url)).transcribe(
            np.zeros(2 * SAMPLE_RATE, dtype=np.float32))
    assert [(w.text, w.probability) for w in bare.segments[0].words] == [("Stop", 0.4), ("nu.", 0.95)]


def test_a_busy_server_is_asked_again_after_a_pause(settings: Settings) -> None:
    app, received = transcription_app(one_segment_per_piece, failures=2)

    with app_in_thread(app) as url:
        transcriber = OpenAIServerTranscriber(server_settings(settings, url), backoff_seconds=0.05)
        transcript = transcriber.transcribe(np.zeros(2 * SAMPLE_RATE, dtype=np.float32))

    assert len(received.forms) == 3
    assert transcript.text == "Noget blev sagt."


def test_a_slow_server_is_given_up_on_at_the_time_limit(settings: Settings) -> None:
    app, received = transcription_app(one_segment_per_piece, delay=3.0)

    with app_in_thread(app) as url:
        transcriber = OpenAIServerTranscriber(
            server_settings(settings, url, transcriber_call_seconds=1.0, transcriber_max_retries=0))
        started = time.monotonic()
        with pytest.raises(TranscriptionServerUnavailable) as raised:
            transcriber.transcribe(np.zeros(2 * SAMPLE_RATE, dtype=np.float32))
        waited = time.monotonic() - started

    assert 0.9 < waited < 2.5
    assert "1 s" in raised.value.message("en")


def test_a_malformed_answer_fails_clearly_without_quoting_it(settings: Settings) -> None:
    app, _ = transcription_app(lambda samples, form: {"segments": [{"text": "Jens Hansen fik insulin"}]})

    with app_in_thread(app) as url:
        with pytest.raises(TranscriptionServerUnavailable) as raised:
            OpenAIServerTranscriber(server_settings(settings, url)).transcribe(np.zeros(SAMPLE_RATE, np.float32))

    assert "verbose_json" in raised.value.message("en") and "Jens" not in raised.value.message("en")


def test_a_server_that_is_down_fails_the_job_retryably_and_keeps_the_recording(
    tmp_path: Path, db, settings: Settings
) -> None:
    from assistant.intake import submit_recording
    from assistant.jobs import Components, retry_job, run_job
    from assistant.models import CaseContext, JobStatus
    from assistant.store.tables import AudioFile
    from tests.support.fakes import FakeChat, FakePseudonymiser

    down = server_settings(settings, f"http://127.0.0.1:{free_port()}", transcriber_max_retries=1)
    components = Components(down, transcriber_=OpenAIServerTranscriber(down, backoff_seconds=0.05),
                            pseudonymiser_=FakePseudonymiser(), chat_=FakeChat())
    submission = submit_recording(db, down, tone(tmp_path / "a.wav", seconds=2.0), CaseContext())

    failed = run_job(db, components, submission.job_id)

    assert failed.status == JobStatus.failed and failed.error_key == "model.server_unavailable"
    assert "Transskriptionsserveren" in failed.error and "prøv jobbet igen" in failed.error
    english = user_message(TranscriptionServerUnavailable(url="http://x/v1/audio/transcriptions", reason="down"), "en")
    assert "retry the job" in english
    with db.session() as session:
        kept = [row.stored_name for row in session.query(AudioFile).all()
                if row.deleted_at is None and row.delete_after is None]
    assert kept and all((down.audio_dir / name).is_file() for name in kept)
    assert retry_job(db, submission.job_id).status == JobStatus.queued


def test_the_server_backend_needs_a_url(settings: Settings) -> None:
    from assistant.errors import ModelUnavailable

    with pytest.raises(ModelUnavailable) as raised:
        make_transcriber(settings.model_copy(update={"transcriber": "openai"}))

    assert "DEBRIEF_TRANSCRIBER_BASE_URL" in raised.value.message("en")


def test_a_language_the_server_names_in_words_becomes_its_code(settings: Settings) -> None:
    app, received = transcription_app(one_segment_per_piece)

    with app_in_thread(app) as url:
        transcript = OpenAIServerTranscriber(server_settings(settings, url, whisper_language=None)).transcribe(
            np.zeros(SAMPLE_RATE, np.float32))

    assert transcript.language == "da"
    assert "language" not in received.forms[0]  # unset: the server detects it
