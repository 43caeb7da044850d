"""The speech-to-text interface every backend implements, and the chunking they share."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from assistant.errors import ModelUnavailable
from assistant.models import Segment, Transcript, Word
from assistant.speech.audio import SAMPLE_RATE, duration_seconds, iter_chunks_16k_mono
from assistant.speech.vocabulary import DecoderVocabulary
from assistant.speech.words import align_words

ProgressCallback = Callable[[float], None]
# A word as a backend gives it: (text, start, end, probability), times in seconds from the start of the piece.
RawWord = tuple[str, float, float, float]

# Long recordings are transcribed in pieces this long, so memory stays bounded whatever the length. Voice
# detection holds a whole piece at once: 600 s pieces peaked ~390 MB above the loaded model, 120 s ~200 MB, at the
# same speed (75 min of audio: 17 s either way on 2 cores).
CHUNK_SECONDS = 120.0


@runtime_checkable
class Transcriber(Protocol):
    """Turns speech into timed segments; ``model_id`` names backend, model and precision for provenance."""

    model_id: str

    def transcribe(self, audio: np.ndarray | Path, progress: ProgressCallback | None = None) -> Transcript:
        """Transcribe 16 kHz mono float32 samples or an audio file; ``progress`` gets the fraction done.

        Segment times are seconds from the start of the recording, and so are the times of a segment's words
        (backends that know each word's confidence fill ``Segment.words``). No speech gives no segments (callers
        decide whether that is an error, e.g. ``NoSpeech``). Backends with ``accepts_vocabulary = True`` also take
        ``vocabulary=`` (words to expect; see :func:`transcribe_expecting`).
        """
        ...


def transcribe_expecting(transcriber: Transcriber, audio: np.ndarray | Path, vocabulary: DecoderVocabulary | None,
                         progress: ProgressCallback | None = None) -> Transcript:
    """``transcriber.transcribe``, given the vocabulary when the backend takes one (``accepts_vocabulary``).

    Backends without it (transformers, openai-whisper, test fakes) transcribe as before.
    """
    if vocabulary is not None and getattr(transcriber, "accepts_vocabulary", False):
        return transcriber.transcribe(audio, progress=progress, vocabulary=vocabulary)  # type: ignore[call-arg]
    return transcriber.transcribe(audio, progress=progress)


def chunks_with_offsets(audio: np.ndarray | Path, seconds: float = CHUNK_SECONDS) -> Iterator[tuple[float, np.ndarray]]:
    """(offset in seconds, 16 kHz mono samples) pieces of a recording given as samples or as a file."""
    if isinstance(audio, np.ndarray):
        step = int(seconds * SAMPLE_RATE)
        for start in range(0, max(len(audio), 1), step):
            yield start / SAMPLE_RATE, audio[start : start + step]
        return
    offset = 0
    for chunk in iter_chunks_16k_mono(Path(audio), seconds=seconds):
        yield offset / SAMPLE_RATE, chunk
        offset += len(chunk)


def total_seconds(audio: np.ndarray | Path) -> float:
    """The recording's length, for progress fractions (from the header when the input is a file)."""
    if isinstance(audio, np.ndarray):
        return len(audio) / SAMPLE_RATE
    return duration_seconds(Path(audio))


class SegmentCollector:
    """Gathers segments from chunk after chunk: shifts times by the chunk offset, keeps them in order and in range,
    drops empty text, and reports progress."""

    def __init__(self, duration: float, progress: ProgressCallback | None) -> None:
        self.duration = max(duration, 1e-6)
        self.progress = progress
        self.segments: list[Segment] = []

    def add(self, offset: float, chunk_seconds: float, start: float, end: float, text: str,
            words: list[RawWord] | None = None) -> None:
        """One segment of the piece at ``offset``; ``words`` are (text, start, end, probability), times in the piece."""
        text = text.strip()
        if not text:
            return
        floor = self.segments[-1].start if self.segments else 0.0
        begin = min(max(offset + start, floor), offset + chunk_seconds)
        finish = min(max(offset + end, begin), offset + chunk_seconds)
        timed = [
            Word(text=w_text, start=round(min(max(offset + w_start, begin), finish), 3),
                 end=round(min(max(offset + w_end, offset + w_start, begin), finish), 3),
                 probability=min(max(probability, 0.0), 1.0))
            for w_text, w_start, w_end, probability in words or []
        ]
        self.segments.append(Segment(index=len(self.segments), start=round(begin, 3), end=round(finish, 3), text=text,
                                     words=align_words(timed, text)))
        self.report(finish)

    def report(self, seconds_done: float) -> None:
        if self.progress is not None:
            self.progress(min(1.0, max(0.0, seconds_done / self.duration)))

    def transcript(self, language: str | None, recorded: float, model_id: str) -> Transcript:
        """The finished transcript (progress reported as complete); ``recorded``: seconds of audio read."""
        self.report(self.duration)
        return Transcript(segments=self.segments, language=language, duration=round(recorded, 3), model_id=model_id)


def require_package(module: str, install: str, backend: str) -> None:
    """Fail early and clearly when an optional backend's package is not installed (checked without importing)."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: blocked in sys.modules
        found = False
    if not found:
        raise ModelUnavailable(
            "model.unavailable",
            name=backend,
            reason=f"the Python package '{module}' is not installed; install it with: pip install {install}",
        )
