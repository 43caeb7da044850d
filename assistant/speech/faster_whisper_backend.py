"""The embedded default: faster-whisper (CTranslate2) with the bundled Whisper base, or any size, hub id or folder."""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.compute import machine_slot
from assistant.errors import ModelUnavailable
from assistant.model_cache import whisper_base_dir
from assistant.models import Transcript
from assistant.settings import Settings
from assistant.speech.audio import SAMPLE_RATE
from assistant.speech.transcriber import (
    CHUNK_SECONDS,
    ProgressCallback,
    SegmentCollector,
    chunks_with_offsets,
    total_seconds,
)
from assistant.speech.vocabulary import DecoderVocabulary

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

# Decoding choices that keep Whisper from looping or inventing text on Danish speech and silence (see docs/models.md).
REPETITION_PENALTY = 1.1
NO_REPEAT_NGRAM_SIZE = 3
# With voice-activity filtering on, the VAD decides what is speech. Whisper's own no-speech rule then only does
# harm: on Danish, Whisper base scores low confidence, so it dropped all of a 25 s Danish clip as "no speech",
# and the low-confidence retries at higher temperatures cost 2-3x the time without changing the text.
# Retries for repetition loops (compression ratio) stay on.
WITH_VAD = {"no_speech_threshold": None, "log_prob_threshold": None}

_models: dict[tuple[str, str, str, int], WhisperModel] = {}
_models_lock = threading.Lock()


class FasterWhisperTranscriber:
    """Whisper through faster-whisper; the model loads on first use and is shared by the whole process."""

    accepts_vocabulary = True

    def __init__(self, settings: Settings, chunk_seconds: float = CHUNK_SECONDS) -> None:
        self.settings = settings
        self.chunk_seconds = chunk_seconds
        name = settings.whisper_model
        if name == "bundled":
            label = "whisper-base-bundled"
        elif Path(name).expanduser().is_dir():
            label = Path(name).expanduser().resolve().name
        else:
            label = name
        self.model_id = f"faster-whisper:{label}:{settings.whisper_compute_type}"

    def transcribe(self, audio: np.ndarray | Path, progress: ProgressCallback | None = None,
                   vocabulary: DecoderVocabulary | None = None) -> Transcript:
        """Transcribe in chunks of ``chunk_seconds`` (segment times are from the start of the recording).

        ``vocabulary``: words to expect, given as hot words (every window) or as the initial prompt.
        """
        model = self.model()
        expected = {}
        if vocabulary is not None:
            expected = {"hotwords" if vocabulary.mode == "hotwords" else "initial_prompt": vocabulary.text}
        collector = SegmentCollector(total_seconds(audio), progress)
        language = self.settings.whisper_language
        detected: str | None = None
        recorded = 0.0
        for offset, chunk in chunks_with_offsets(audio, self.chunk_seconds):
            length = len(chunk) / SAMPLE_RATE
            if length == 0:
                continue
            # One chunk at a time holds the machine's compute slot, so a draft elsewhere can run between chunks.
            with machine_slot(self.settings.compute_dir, self.settings.compute_slots, "whisper"):
                segments, info = model.transcribe(
                    chunk,
                    language=language,
                    beam_size=self.settings.whisper_beam_size,
                    vad_filter=self.settings.whisper_vad,
                    condition_on_previous_text=False,
                    repetition_penalty=REPETITION_PENALTY,
                    no_repeat_ngram_size=NO_REPEAT_NGRAM_SIZE,
                    # Word times and confidence let people check the words Whisper was unsure of. Measured on a
                    # 16 s Danish clip, beam 5, 2 cores: 2.5 s with them, 2.3 s without (+7 %), so always on.
                    word_timestamps=True,
                    **(WITH_VAD if self.settings.whisper_vad else {}),
                    **expected,
                )
                for segment in segments:  # a generator: decoding happens while we iterate
                    words = [(w.word, w.start, w.end, float(w.probability)) for w in segment.words or []]
                    collector.add(offset, length, segment.start, segment.end, segment.text, words)
            detected = detected or info.language
            recorded = offset + length
            collector.report(recorded)
            release_freed_memory()
        made_by = self.model_id + (vocabulary.provenance if vocabulary is not None else "")
        return collector.transcript(language or detected, recorded, made_by)

    def model(self) -> WhisperModel:
        """The loaded model, shared by every transcriber in this process with the same model and device."""
        s = self.settings
        key = (f"{s.whisper_model}@{s.models_dir}", s.whisper_device, s.whisper_compute_type, s.cpu_threads)
        with _models_lock:
            if key not in _models:
                _models[key] = _load(s)
            return _models[key]


def _malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to call
        return None


_MALLOC_TRIM = _malloc_trim()


def release_freed_memory() -> None:
    """Hand memory freed by the last chunk back to the OS (glibc keeps it per thread otherwise).

    Without this, a 60-minute recording ended ~100 MB higher than a 10-minute one although every chunk frees what
    it used: the speech-detection and decoder threads each keep their own malloc arena.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _load(settings: Settings) -> WhisperModel:
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise ModelUnavailable("model.unavailable", name="faster-whisper", reason=str(exc)) from exc
    name = settings.whisper_model
    if name == "bundled":
        source = str(whisper_base_dir(settings))
    elif Path(name).expanduser().is_dir():
        source = str(Path(name).expanduser())
    else:
        source = name  # a size ("large-v3") or hub id: fetched into our cache only when the user chose it
    try:
        return WhisperModel(
            source,
            device=settings.whisper_device,
            compute_type=settings.whisper_compute_type,
            cpu_threads=settings.cpu_threads,
            download_root=str(settings.models_dir / "faster-whisper"),
        )
    except Exception as exc:  # CTranslate2 and huggingface_hub raise many kinds; all mean "cannot load"
        raise ModelUnavailable("model.unavailable", name=name, reason=f"{exc.__class__.__name__}: {exc}") from exc
