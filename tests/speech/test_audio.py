"""Audio intake: every common upload decodes to 16 kHz mono, and every unusable one is refused with its reason."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import InvalidAudio
from assistant.settings import Settings
from assistant.speech import (
    SAMPLE_RATE,
    check_not_silent,
    content_hash,
    decode_16k_mono,
    is_silent,
    iter_chunks_16k_mono,
    probe,
    validate_recording,
)
from tests.support.audio_factory import (
    FORMATS,
    concat,
    convert,
    image_file,
    read_wav,
    silence,
    speak,
    text_file_renamed,
    tone,
    truncate,
    write_wav,
)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 3 s of English espeak-ng speech (22.05 kHz mono WAV)."""
    folder = tmp_path_factory.mktemp("speech")
    return speak("The nurse checked the medication list twice.", folder / "speech.wav")


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory: pytest.TempPathFactory, speech: Path) -> Path:
    """About 14 s: four sentences with pauses (long enough that a cut-off half is still over the minimum)."""
    return concat([speech] * 4, tmp_path_factory.mktemp("long") / "long.wav", gap_seconds=0.5)


def seconds_of(path: Path) -> float:
    samples, rate = read_wav(path)
    return len(samples) / rate


def dominant_frequency(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)[int(np.argmax(spectrum))])


def refusal(path: Path, settings: Settings) -> str:
    with pytest.raises(InvalidAudio) as raised:
        validate_recording(path, settings)
    # Every refusal must reach the user as a sentence, in Danish and in English.
    assert raised.value.message("da") != raised.value.key
    assert raised.value.message("en") != raised.value.key
    return raised.value.key


@pytest.mark.parametrize("extension", FORMATS)
def test_every_common_format_decodes_to_16k_mono_of_the_right_length(
    extension: str, speech: Path, tmp_path: Path, settings: Settings
) -> None:
    upload = convert(speech, tmp_path / f"upload{extension}")

    info = validate_recording(upload, settings)
    samples = decode_16k_mono(upload)

    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) / SAMPLE_RATE - seconds_of(speech)) <= 0.1
    assert abs(info.duration_seconds - seconds_of(speech)) <= 0.1
    assert 0.05 < np.abs(samples).max() <= 1.0


@pytest.mark.parametrize(("rate", "channels"), [(8_000, 1), (22_050, 1), (44_100, 6), (48_000, 2), (96_000, 2)])
def test_any_sample_rate_and_channel_layout_is_resampled_to_16k_mono(
    rate: int, channels: int, tmp_path: Path, settings: Settings
) -> None:
    source = tone(tmp_path / "tone.wav", seconds=2.0, frequency=440.0, rate=rate, channels=channels)

    info = probe(source, settings)
    samples = decode_16k_mono(source)

    assert (info.sample_rate, info.channels) == (rate, channels)
    assert abs(len(samples) / SAMPLE_RATE - 2.0) <= 0.1
    assert abs(dominant_frequency(samples) - 440.0) < 5  # pitch survives: the rate conversion is right


def test_48k_stereo_m4a_from_a_phone_decodes_to_16k_mono(speech: Path, tmp_path: Path, settings: Settings) -> None:
    upload = convert(speech, tmp_path / "phone.m4a", rate=48_000, channels=2)

    info = probe(upload, settings)

    assert (info.sample_rate, info.channels, info.codec, info.container.split(",")[0]) == (48_000, 2, "aac", "mov")
    assert abs(len(decode_16k_mono(upload)) / SAMPLE_RATE - seconds_of(speech)) <= 0.1


def test_sound_in_one_stereo_channel_is_kept_in_the_mono_mix(tmp_path: Path) -> None:
    left = 0.3 * np.sin(2 * np.pi * 300 * np.arange(2 * 48_000) / 48_000)
    upload = write_wav(tmp_path / "left.wav", np.stack([left, np.zeros_like(left)], axis=1), rate=48_000)

    assert not is_silent(decode_16k_mono(upload))


def test_probe_describes_the_upload(speech: Path, tmp_path: Path, settings: Settings) -> None:
    upload = convert(speech, tmp_path / "note.mp3")

    info = probe(upload, settings)

    assert info.sha256 == hashlib.sha256(upload.read_bytes()).hexdigest() == content_hash(upload)
    assert info.size_bytes == upload.stat().st_size
    assert (info.codec, info.container, info.sample_rate, info.channels) == ("mp3", "mp3", 22_050, 1)


def test_a_browser_recording_without_duration_in_its_header_is_accepted(
    speech: Path, tmp_path: Path, settings: Settings
) -> None:
    upload = convert(speech, tmp_path / "mic.webm", live=True)

    assert abs(validate_recording(upload, settings).duration_seconds - seconds_of(speech)) <= 0.1


def test_a_text_file_renamed_to_wav_is_not_audio(tmp_path: Path, settings: Settings) -> None:
    assert refusal(text_file_renamed(tmp_path / "referat.wav"), settings) == "audio.not_audio"


def test_a_picture_is_not_audio(tmp_path: Path, settings: Settings) -> None:
    picture = image_file(tmp_path / "photo.png").rename(tmp_path / "photo.mp3")

    assert refusal(picture, settings) == "audio.not_audio"


def test_an_empty_file_is_refused(tmp_path: Path, settings: Settings) -> None:
    empty = tmp_path / "empty.m4a"
    empty.write_bytes(b"")

    assert refusal(empty, settings) == "audio.empty"


def test_a_half_second_clip_is_too_short(tmp_path: Path, settings: Settings) -> None:
    assert refusal(silence(tmp_path / "blip.wav", 0.5), settings) == "audio.too_short"


def test_a_silent_recording_is_refused(tmp_path: Path, settings: Settings) -> None:
    assert refusal(silence(tmp_path / "quiet.wav", 3.0), settings) == "audio.silent"


def test_size_is_checked_before_the_file_is_even_opened(tmp_path: Path, settings: Settings) -> None:
    tiny_limit = settings.model_copy(update={"max_upload_bytes": 1000})

    # Not audio at all, but too big is what the user hears: nothing was parsed.
    assert refusal(text_file_renamed(tmp_path / "big.wav"), tiny_limit) == "audio.too_big"


def test_an_over_long_recording_is_refused(long_speech: Path, settings: Settings) -> None:
    assert refusal(long_speech, settings.model_copy(update={"max_audio_seconds": 10})) == "audio.too_long"


def test_length_is_judged_from_the_header_without_decoding(
    long_speech: Path, tmp_path: Path, settings: Settings
) -> None:
    # The MP3 header promises ~14 s while only ~7 s arrived: the header alone decides "too long".
    cut = truncate(convert(long_speech, tmp_path / "long.mp3"), tmp_path / "cut.mp3", keep_fraction=0.5)

    assert refusal(cut, settings.model_copy(update={"max_audio_seconds": 10})) == "audio.too_long"


def test_a_stream_without_stated_length_is_cut_short_at_the_limit(
    long_speech: Path, tmp_path: Path, settings: Settings
) -> None:
    upload = convert(long_speech, tmp_path / "mic.webm", live=True)

    assert refusal(upload, settings.model_copy(update={"max_audio_seconds": 5})) == "audio.too_long"


@pytest.mark.parametrize("extension", [".mp3", ".m4a", ".mp4", ".webm", ".wav"])
def test_a_truncated_upload_is_corrupt(extension: str, long_speech: Path, tmp_path: Path, settings: Settings) -> None:
    whole = convert(long_speech, tmp_path / f"whole{extension}")

    cut = truncate(whole, tmp_path / f"cut{extension}", keep_fraction=0.6)

    assert refusal(cut, settings) == "audio.corrupt"


def test_chunks_cover_the_recording_exactly_and_stay_bounded(long_speech: Path) -> None:
    whole = decode_16k_mono(long_speech)

    chunks = list(iter_chunks_16k_mono(long_speech, seconds=4.0))

    assert all(len(c) <= 4.0 * SAMPLE_RATE for c in chunks)
    assert len(chunks) >= 4
    np.testing.assert_array_equal(np.concatenate(chunks), whole)


def test_chunks_are_cut_in_pauses_rather_than_mid_word(speech: Path, tmp_path: Path) -> None:
    # Speech, 1 s pause, speech: a 4.5 s chunk limit should end the first chunk inside the pause.
    clip = concat([speech, speech], tmp_path / "two.wav", gap_seconds=1.0)
    first_sentence = seconds_of(speech)

    first = next(iter_chunks_16k_mono(clip, seconds=first_sentence + 0.9))

    assert first_sentence - 0.05 <= len(first) / SAMPLE_RATE <= first_sentence + 1.0
    assert is_silent(first[-SAMPLE_RATE // 10 :])


def test_silence_threshold_is_in_dbfs() -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    sine = np.sin(2 * np.pi * 200 * t).astype(np.float32)  # full scale: -3 dBFS RMS

    assert is_silent(np.zeros(SAMPLE_RATE, dtype=np.float32))
    assert is_silent(np.array([], dtype=np.float32))
    assert is_silent(sine * 10 ** (-60 / 20))
    assert not is_silent(sine * 10 ** (-40 / 20))
    with pytest.raises(InvalidAudio, match="audio.silent"):
        check_not_silent(sine * 10 ** (-60 / 20))
