"""Hardening, bad input (issue 6, cases 1-10): every bad upload or note gets a clear, translated refusal and
leaves nothing stored; odd but valid input is accepted and handled. Real decoders, real store, fake models."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import wave
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from assistant.cases import load_case
from assistant.errors import InvalidAudio, InvalidInput
from assistant.intake import submit_notes, submit_recording
from assistant.jobs import Components, pipeline, retry_job, run_job
from assistant.models import CaseContext, JobStatus
from assistant.speech import audio
from assistant.store.tables import AudioFile, Case, Draft, Job
from tests.support import audio_factory
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft
from ui.render import case_html

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def components(settings, monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    return Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(), chat_=FakeChat())


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Path:
    """About 17 s of espeak-ng speech in six sentences (long enough that a cut-off half is still long enough)."""
    folder = tmp_path_factory.mktemp("speech")
    sentence = audio_factory.speak("The nurse checked the medication list twice.", folder / "one.wav")
    return audio_factory.concat([sentence] * 6, folder / "speech.wav", gap_seconds=0.5)


def stored_nothing(db, settings) -> bool:
    with db.session() as session:
        rows = sum(session.scalar(select(func.count()).select_from(t)) for t in (Case, Job, AudioFile))
    files = list(settings.audio_dir.iterdir()) if settings.audio_dir.exists() else []
    return rows == 0 and files == []


def refused(db, settings, path: Path) -> InvalidAudio:
    """Hand ``path`` in; it must be refused with a sentence in Danish and in English, and nothing kept."""
    with pytest.raises(InvalidAudio) as raised:
        submit_recording(db, settings, path, CaseContext())
    error = raised.value
    danish, english = error.message("da"), error.message("en")
    assert danish != error.key and english != error.key and danish != english
    assert "Intet er gemt" in danish and "Nothing was saved" in english
    assert stored_nothing(db, settings)
    return error


# -- 1. not audio, under an audio name ---------------------------------------------------------------------------


NOT_AUDIO = {
    "text.wav": b"Referat af debriefing\nDette er tekst, ikke lyd.\n" * 40,
    "random.mp3": np.random.default_rng(7).integers(0, 256, 40_000, dtype=np.uint8).tobytes(),
    "archive.m4a": b"PK\x03\x04" + b"\x00" * 4000,
    "page.ogg": b"<!doctype html><html><body><script>alert(1)</script></body></html>" * 30,
    "document.webm": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"0" * 4000,
}


@pytest.mark.parametrize("name", NOT_AUDIO)
def test_a_file_that_is_not_audio_is_refused_whatever_its_extension(db, settings, tmp_path, name):
    upload = tmp_path / name
    upload.write_bytes(NOT_AUDIO[name])
    assert refused(db, settings, upload).key == "audio.not_audio"


def test_a_picture_renamed_to_m4a_is_not_audio(db, settings, tmp_path):
    picture = audio_factory.image_file(tmp_path / "photo.png").rename(tmp_path / "photo.m4a")
    assert refused(db, settings, picture).key == "audio.not_audio"


# -- 2. empty -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("extension", [".wav", ".mp3", ".m4a", ".webm"])
def test_an_empty_file_is_refused(db, settings, tmp_path, extension):
    empty = tmp_path / f"tom{extension}"
    empty.write_bytes(b"")
    assert refused(db, settings, empty).key == "audio.empty"


# -- 3. truncated or damaged mp3 and m4a -------------------------------------------------------------------------


@pytest.mark.parametrize("extension", [".mp3", ".m4a"])
@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_a_truncated_mp3_or_m4a_is_corrupt(db, settings, tmp_path, speech, extension, keep):
    whole = audio_factory.convert(speech, tmp_path / f"whole{extension}")
    cut = audio_factory.truncate(whole, tmp_path / f"cut{extension}", keep_fraction=keep)
    assert refused(db, settings, cut).key == "audio.corrupt"


@pytest.mark.parametrize("extension", [".mp3", ".m4a"])
def test_an_mp3_or_m4a_with_garbage_in_the_middle_is_corrupt(db, settings, tmp_path, speech, extension):
    data = bytearray(audio_factory.convert(speech, tmp_path / f"whole{extension}").read_bytes())
    start, end = len(data) // 2, len(data) // 2 + len(data) // 5
    data[start:end] = np.random.default_rng(3).integers(0, 256, end - start, dtype=np.uint8).tobytes()
    damaged = tmp_path / f"damaged{extension}"
    damaged.write_bytes(bytes(data))
    assert refused(db, settings, damaged).key == "audio.corrupt"


@pytest.mark.parametrize("extension", [".ogg", ".opus", ".webm", ".flac", ".wav"])
def test_an_ogg_webm_flac_or_wav_with_garbage_in_the_middle_is_refused_not_skipped(db, settings, tmp_path, speech,
                                                                                   extension):
    """The demuxers skip a damaged stretch (Ogg, FLAC) or decode it as noise (wav): without this check the
    transcript would silently miss part of the debrief."""
    whole = audio_factory.convert(speech, tmp_path / f"whole{extension}")
    assert audio.probe(whole, settings).duration_seconds > 15  # undamaged, the same file is accepted
    data = bytearray(whole.read_bytes())
    start, end = len(data) // 2, len(data) // 2 + len(data) // 10
    data[start:end] = np.random.default_rng(3).integers(0, 256, end - start, dtype=np.uint8).tobytes()
    damaged = tmp_path / f"damaged{extension}"
    damaged.write_bytes(bytes(data))
    error = refused(db, settings, damaged)
    if extension == ".webm" and error.key == "audio.corrupt":
        return  # WebM's length header can show the loss first
    assert error.key == "audio.damaged_inside" and error.params["seconds"] >= 0.5
    assert f"{error.params['seconds']} s of the recording cannot be decoded" in error.message("en")


def test_loud_noise_and_clipped_speech_are_not_mistaken_for_damage(settings, tmp_path, speech):
    noise = audio_factory.write_wav(tmp_path / "noise.wav", np.random.default_rng(5).normal(0, 0.2, 5 * 16_000))
    samples, rate = audio_factory.read_wav(speech)
    clipped = audio_factory.write_wav(tmp_path / "clipped.wav", np.clip(samples * 20, -1, 1), rate=rate)
    for recording in (noise, clipped):
        assert audio.probe(recording, settings).duration_seconds > 4


# -- 4. silence and no speech ------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda d: audio_factory.silence(d / "stille.wav", 4.0),
    lambda d: audio_factory.write_wav(d / "sus.wav", np.random.default_rng(1).normal(0, 0.0005, 64_000)),
    lambda d: audio_factory.convert(audio_factory.silence(d / "s.wav", 4.0, rate=48_000, channels=2), d / "s.m4a"),
], ids=["digital-silence", "faint-hiss", "silent-phone-m4a"])
def test_a_silent_recording_is_refused_before_anything_is_stored(db, settings, tmp_path, make):
    assert refused(db, settings, make(tmp_path)).key == "audio.silent"


def test_sound_without_speech_fails_as_no_speech_with_no_draft_and_the_recording_goes(db, settings, tmp_path):
    """Real Whisper (with its voice detection) on loud noise: no words, so no empty draft is made."""
    noise = audio_factory.write_wav(tmp_path / "stoej.wav", np.random.default_rng(5).normal(0, 0.2, 5 * 16_000))
    settings.whisper_language = "en"
    components = Components(settings, pseudonymiser_=FakePseudonymiser(), chat_=FakeChat())
    submission = submit_recording(db, settings, noise, CaseContext())

    result = run_job(db, components, submission.job_id)

    assert result.status == JobStatus.failed and result.error_key == "audio.no_speech"
    assert result.error == "Der blev ikke fundet tale i optagelsen. Intet udkast er lavet."
    view = load_case(db, submission.case_id)
    assert view.status == "failed" and view.learning_points == [] and view.isbar == []
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Draft)) == 0
    # Nothing to learn from, and no consent to keep it: the recording is deleted as after any transcript,
    # and a retry says why it cannot run instead of failing obscurely.
    assert list(settings.audio_dir.iterdir()) == []
    with pytest.raises(InvalidInput) as error:
        retry_job(db, submission.job_id)
    assert error.value.key == "job.input_gone" and "igen" in error.value.message("da")


# -- 5. over length, over size: refused before decoding --------------------------------------------------------


@pytest.fixture
def decoding_forbidden(monkeypatch):
    """Any attempt to decode audio fails the test: the refusal must come from size, header or packets alone."""

    def no_decoding(*args, **kwargs):
        raise AssertionError("the upload was decoded")

    monkeypatch.setattr(audio, "_decoded_frames", no_decoding)


def test_an_upload_over_the_size_limit_is_refused_without_being_opened(db, settings, tmp_path, decoding_forbidden,
                                                                       monkeypatch):
    upload = audio_factory.tone(tmp_path / "stor.wav", seconds=4.0)
    monkeypatch.setattr(audio.av, "open", lambda *a, **k: pytest.fail("the upload was opened"))
    settings.max_upload_bytes = upload.stat().st_size - 1
    error = refused(db, settings, upload)
    assert error.key == "audio.too_big" and "MB" in error.message("da")


@pytest.mark.parametrize(("extension", "live"), [(".wav", False), (".mp3", False), (".m4a", False), (".webm", True)],
                         ids=["wav-header", "mp3-header", "m4a-header", "browser-webm-without-length"])
def test_a_recording_over_the_length_limit_is_refused_without_decoding(db, settings, tmp_path, speech,
                                                                      decoding_forbidden, extension, live):
    upload = audio_factory.convert(speech, tmp_path / f"lang{extension}", live=live)
    settings.max_audio_seconds = 8
    error = refused(db, settings, upload)
    assert error.key == "audio.too_long" and "min" in error.message("en")


# -- 6. a long recording within the limits: chunked, memory bounded ---------------------------------------------


SPEECH_AT = (5, 300, 1500, 2700, 3590, 4400)  # seconds; past several chunk boundaries (chunks are 120 s)


def long_recording(path: Path, seconds: int, sentence: Path) -> Path:
    """Faint room hiss (below the silence threshold) with one spoken sentence at each mark, as 8 kHz mono WAV.

    Written a minute at a time, so making a 75-minute file takes about a second and little memory.
    """
    rate = 8_000
    samples, own_rate = audio_factory.read_wav(sentence)
    spoken = np.interp(np.arange(round(len(samples) * rate / own_rate)) * own_rate / rate,
                       np.arange(len(samples)), samples[:, 0]).astype(np.float32)
    rng = np.random.default_rng(1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        block = 60 * rate
        for start in range(0, seconds * rate, block):
            piece = rng.normal(0, 0.0005, block).astype(np.float32)
            for mark in (m for m in SPEECH_AT if m < seconds):
                at = mark * rate - start
                if -len(spoken) < at < block:
                    lo, hi = max(at, 0), min(at + len(spoken), block)
                    piece[lo:hi] += spoken[lo - at:hi - at]
            out.writeframes((np.clip(piece, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def probe_in_fresh_process(warmup: Path, recording: Path, *extra: str) -> dict:
    probe = [sys.executable, "-m", "tests.support.long_recording_probe", str(warmup), str(recording), *extra]
    done = subprocess.run(probe, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_75_minute_recording_is_accepted_and_transcribed_in_chunks_with_bounded_memory(db, settings, tmp_path,
                                                                                           artifacts_dir):
    """What this covers: intake of a 75-minute file, then the real chunked decode, voice detection and Whisper
    over all of it. Most of it is hiss, so Whisper decodes six sentences, not an hour of talk; the decoding,
    chunking and voice detection do run over every second."""
    sentence = audio_factory.speak("The patient received the wrong dose at the shift change.", tmp_path / "s.wav")
    warmup = long_recording(tmp_path / "warmup.wav", 150, sentence)
    half_hour = long_recording(tmp_path / "half-hour.wav", 30 * 60, sentence)
    long = long_recording(tmp_path / "long.wav", 75 * 60, sentence)

    submission = submit_recording(db, settings, long, CaseContext())
    with db.session() as session:
        assert session.scalar(select(AudioFile.duration_seconds)) == pytest.approx(4500, abs=1)
    assert not submission.duplicate

    shorter = probe_in_fresh_process(warmup, half_hour)
    longer = probe_in_fresh_process(warmup, long)
    whole = probe_in_fresh_process(warmup, long, "--whole")
    (artifacts_dir / "hardening-long-recording.json").write_text(json.dumps(
        {"growth_mb": {"30 min chunked": shorter["growth_mb"], "75 min chunked": longer["growth_mb"],
                       "75 min decoded whole": whole["growth_mb"]},
         "seconds_75_min": longer["seconds"]}, indent=2))

    starts = [s["start"] for s in longer["segments"]]
    for mark in SPEECH_AT:  # every sentence found, at its own time: chunk offsets add up over 75 minutes
        assert any(abs(start - mark) <= 2.0 for start in starts), (mark, longer["segments"])
    assert all("dose" in s["text"] or "shift" in s["text"] for s in longer["segments"])
    # 2.5 times the length costs (nearly) no more memory; decoding it whole would cost ~3x as much.
    assert longer["growth_mb"] - shorter["growth_mb"] < 60, (shorter, longer)
    assert longer["growth_mb"] < 0.5 * whole["growth_mb"], (longer, whole)


# -- 7. exotic sample rates and channel layouts ------------------------------------------------------------------


@pytest.mark.parametrize(("rate", "channels"), [(11_025, 1), (32_000, 4), (192_000, 2), (48_000, 8), (7_350, 1)])
def test_exotic_rates_and_channel_counts_are_accepted_and_become_16k_mono(db, settings, tmp_path, rate, channels):
    upload = audio_factory.tone(tmp_path / "tone.wav", seconds=3.0, frequency=330.0, rate=rate, channels=channels)
    submission = submit_recording(db, settings, upload, CaseContext())
    with db.session() as session:
        stored = settings.audio_dir / session.scalar(select(AudioFile.stored_name))
    samples = audio.decode_16k_mono(stored)
    assert submission.case_id and abs(len(samples) / audio.SAMPLE_RATE - 3.0) <= 0.05
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(np.fft.rfftfreq(len(samples), 1 / audio.SAMPLE_RATE)[int(np.argmax(spectrum))] - 330.0) < 5


def test_a_stereo_recording_with_speech_in_one_channel_only_is_not_silent(db, settings, tmp_path):
    left = 0.3 * np.sin(2 * np.pi * 250 * np.arange(3 * 44_100) / 44_100)
    upload = audio_factory.write_wav(tmp_path / "venstre.wav", np.stack([left, np.zeros_like(left)], axis=1), 44_100)
    assert submit_recording(db, settings, audio_factory.convert(upload, tmp_path / "venstre.m4a"), CaseContext())


# -- 8. file names -----------------------------------------------------------------------------------------------


HOSTILE_NAMES = [
    "..\\..\\windows\\system32\\evil.wav",
    "..%2F..%2Fetc%2Fpasswd.wav",
    "....wav",
    "-rf --no-preserve-root.wav",
    "Ærø Øst – søndag 😀.wav",
    "linje\nskift\tog\rretur.wav",
    "a" * 240 + ".wav",
    ".hidden",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_recordings_are_kept_under_generated_names_only(db, settings, tmp_path, name):
    upload_dir = tmp_path / "uploads"
    upload_dir.mkdir()
    upload = audio_factory.tone(upload_dir / name, seconds=2.0)
    before = set(tmp_path.rglob("*"))

    submit_recording(db, settings, upload, CaseContext())

    stored = list(settings.audio_dir.iterdir())
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{32}\.wav", stored[0].name)
    created = set(tmp_path.rglob("*")) - before
    assert all(p == settings.data_dir or settings.data_dir in p.parents for p in created), created
    with db.session() as session:
        assert session.scalar(select(AudioFile.stored_name)) == stored[0].name


# -- 9. typed notes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "key"), [
    ("", "input.empty_notes"),
    (" \n\t\r\n ", "input.empty_notes"),
    ("\x00\x07\x1b\x7f\x08\x0c", "input.empty_notes"),
    ("Faldet skete om natten. " * 9000, "input.notes_too_long"),
], ids=["empty", "whitespace", "control-only", "huge"])
def test_unusable_notes_are_refused_with_a_translated_reason_and_nothing_stored(db, settings, text, key):
    with pytest.raises(InvalidInput) as raised:
        submit_notes(db, settings, text, CaseContext())
    assert raised.value.key == key
    assert raised.value.message("da") != raised.value.message("en") != key
    assert stored_nothing(db, settings)


def test_control_characters_are_removed_and_markup_in_notes_is_shown_as_text(db, settings, components):
    notes = ("Pumpen\x00 alarmerede\x1b[31m <script>alert('x')</script> ved stue 4.\x07\n\n"
             "Se [journalen](javascript:alert(1)) og ![foto](http://evil.example/x.png) "
             "<img src=x onerror=alert(2)> **vigtigt** <a href='http://evil.example'>link</a>")
    submission = submit_notes(db, settings, notes, CaseContext())
    assert run_job(db, components, submission.job_id).status == JobStatus.done

    view = load_case(db, submission.case_id)
    stored = " ".join(s.text for s in view.segments)
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", stored)
    assert "<script>alert('x')</script>" in stored  # kept as the reporter wrote it, as text
    html = case_html(view, "da")
    for live in ("<script", "<img", "<a ", "href='http"):  # no tag and no attribute came alive
        assert live not in html, live
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "[journalen](javascript:alert(1))" in html  # markdown is not rendered either: it stays literal


# -- 10. the same thing twice ------------------------------------------------------------------------------------


def test_the_same_recording_under_another_name_is_the_existing_case(db, settings, tmp_path):
    first = audio_factory.tone(tmp_path / "optagelse.wav", seconds=2.0)
    copy = tmp_path / "kopi af optagelse (1).wav"
    copy.write_bytes(first.read_bytes())
    original = submit_recording(db, settings, first, CaseContext())
    again = submit_recording(db, settings, copy, CaseContext(unit="En anden afdeling"))
    assert again.duplicate and again.case_id == original.case_id and again.receipt_code is None
    assert len(list(settings.audio_dir.iterdir())) == 1


@pytest.mark.parametrize("kind", ["notes", "recording"])
def test_a_double_click_hands_in_one_case_not_two(db, settings, tmp_path, kind):
    """Two submissions of the same content at the same moment: one case, the other gets it as a duplicate."""
    upload = audio_factory.tone(tmp_path / "a.wav", seconds=2.0)
    for round_ in range(5):
        content = f"Samme noter, runde {round_}: faldet blev opdaget hurtigt."
        if kind == "recording":
            upload = audio_factory.tone(tmp_path / f"a{round_}.wav", seconds=2.0, frequency=300.0 + round_)
        start = threading.Barrier(2)
        results: list = []

        def hand_in() -> None:
            start.wait()
            try:
                if kind == "notes":
                    results.append(submit_notes(db, settings, content, CaseContext()))
                else:
                    results.append(submit_recording(db, settings, upload, CaseContext()))
            except Exception as error:  # noqa: BLE001 - collected and asserted on below
                results.append(error)

        threads = [threading.Thread(target=hand_in) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(not isinstance(r, Exception) for r in results), results
        assert results[0].case_id == results[1].case_id and sorted(r.duplicate for r in results) == [False, True]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 5
    if kind == "recording":
        assert len(list(settings.audio_dir.iterdir())) == 5
