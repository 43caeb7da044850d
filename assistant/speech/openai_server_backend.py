"""Scale-out: an OpenAI-compatible transcription server, so one GPU box serves a strong model to every worker.

Speaks ``POST {transcriber_base_url}/audio/transcriptions`` (multipart: ``file``, ``model``, ``language``,
``response_format=verbose_json``, ``timestamp_granularities[]``), the API of faster-whisper servers (speaches),
vLLM and whisper.cpp's server. The recording goes in pieces of ``CHUNK_SECONDS`` as 16 kHz mono WAV, so requests
stay small (about 4 MB) whatever the recording's length, and a failed piece is retried on its own.
"""

from __future__ import annotations

import io
import logging
import time
import wave
from pathlib import Path

import httpx
import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.errors import ModelUnavailable, TranscriptionServerUnavailable
from assistant.models import Transcript
from assistant.settings import Settings
from assistant.speech.audio import SAMPLE_RATE
from assistant.speech.transcriber import (
    CHUNK_SECONDS,
    ProgressCallback,
    RawWord,
    SegmentCollector,
    chunks_with_offsets,
    total_seconds,
)
from assistant.speech.vocabulary import DecoderVocabulary

log = logging.getLogger(__name__)

# Worth trying again: the server is busy (429), broke or is restarting (5xx). Other 4xx answers (unknown model,
# bad key, file too big) will not change by asking again.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CONNECT_SECONDS = 10.0
# OpenAI's verbose_json names the detected language ("danish"); the other backends give ISO codes.
LANGUAGE_CODES = {"danish": "da", "english": "en"}


class ServerWord(BaseModel):
    """One word as a verbose_json answer gives it (``probability`` only from servers that send it)."""

    model_config = ConfigDict(extra="ignore")

    word: str
    start: float
    end: float
    probability: float | None = None


class ServerSegment(BaseModel):
    """One segment of a verbose_json answer; times are seconds from the start of the piece sent."""

    model_config = ConfigDict(extra="ignore")

    start: float
    end: float
    text: str
    words: list[ServerWord] | None = None


class ServerTranscription(BaseModel):
    """The verbose_json answer of ``/audio/transcriptions``, as far as Debrief reads it."""

    model_config = ConfigDict(extra="ignore")

    text: str = ""
    language: str | None = None
    duration: float | None = None
    segments: list[ServerSegment] = []
    # OpenAI sends words here rather than per segment; they are shared out to the segments by time.
    words: list[ServerWord] | None = None

    def segment_words(self, segment: ServerSegment) -> list[RawWord]:
        """The segment's words with confidence: its own, or the answer's words that start inside it.

        Words without a probability are left out: OpenAI's own API sends none, and a word without confidence
        has nothing to mark.
        """
        if segment.words is not None:
            candidates = segment.words
        else:
            candidates = [w for w in self.words or [] if segment.start <= (w.start + w.end) / 2 <= segment.end]
        if any(w.probability is None for w in candidates):
            return []
        return [(w.word, w.start, w.end, w.probability) for w in candidates]


class OpenAIServerTranscriber:
    """Sends each piece of a recording to the transcription server; retries with back-off, then fails retryably."""

    accepts_vocabulary = True

    def __init__(self, settings: Settings, chunk_seconds: float = CHUNK_SECONDS, backoff_seconds: float = 1.0) -> None:
        if not settings.transcriber_base_url:
            raise ModelUnavailable(
                "model.unavailable", name=settings.transcriber_model, reason="DEBRIEF_TRANSCRIBER_BASE_URL is not set"
            )
        self.settings = settings
        self.chunk_seconds = chunk_seconds
        self.backoff_seconds = backoff_seconds
        self.url = settings.transcriber_base_url.rstrip("/") + "/audio/transcriptions"
        self.model_id = f"openai-server:{settings.transcriber_model}"

    def transcribe(self, audio: np.ndarray | Path, progress: ProgressCallback | None = None,
                   vocabulary: DecoderVocabulary | None = None) -> Transcript:
        """Transcribe piece by piece (segment times are from the start of the recording).

        ``vocabulary`` goes as the request's ``prompt`` whatever its mode: the API has no hot words.
        """
        form = self._form(vocabulary)
        collector = SegmentCollector(total_seconds(audio), progress)
        language = self.settings.whisper_language
        detected: str | None = None
        recorded = 0.0
        with self._client() as client:
            for offset, chunk in chunks_with_offsets(audio, self.chunk_seconds):
                length = len(chunk) / SAMPLE_RATE
                if length == 0:
                    continue
                answer = self._post(client, wav_bytes(chunk), form)
                if answer.segments:
                    for segment in answer.segments:
                        collector.add(offset, length, segment.start, segment.end, segment.text,
                                      answer.segment_words(segment))
                else:  # a server that ignores verbose_json still gives the text, timed as the whole piece
                    whole = ServerSegment(start=0.0, end=length, text=answer.text)
                    collector.add(offset, length, 0.0, length, answer.text, answer.segment_words(whole))
                detected = detected or LANGUAGE_CODES.get((answer.language or "").lower(), answer.language)
                recorded = offset + length
                collector.report(recorded)
        made_by = self.model_id + (vocabulary.provenance if vocabulary is not None else "")
        return collector.transcript(language or detected, recorded, made_by)

    def _client(self) -> httpx.Client:
        seconds = self.settings.transcriber_call_seconds
        headers = {}
        if self.settings.transcriber_api_key is not None:
            headers["Authorization"] = f"Bearer {self.settings.transcriber_api_key.get_secret_value()}"
        return httpx.Client(timeout=httpx.Timeout(seconds, connect=min(CONNECT_SECONDS, seconds)), headers=headers)

    def _form(self, vocabulary: DecoderVocabulary | None = None) -> dict[str, str | list[str]]:
        form: dict[str, str | list[str]] = {
            "model": self.settings.transcriber_model,
            "response_format": "verbose_json",
            "timestamp_granularities[]": ["segment", "word"],
        }
        if self.settings.whisper_language:
            form["language"] = self.settings.whisper_language
        if vocabulary is not None:
            form["prompt"] = vocabulary.text
        return form

    def _post(self, client: httpx.Client, wav: bytes, form: dict[str, str | list[str]]) -> ServerTranscription:
        """One piece to the server, tried ``1 + transcriber_max_retries`` times, waiting 1, 2, 4 … s between."""
        tries = 1 + self.settings.transcriber_max_retries
        reason = ""
        for attempt in range(tries):
            if attempt:
                wait = self.backoff_seconds * 2 ** (attempt - 1)
                log.warning("transcription server %s: %s; trying again in %.1f s (%d/%d)",
                            self.url, reason, wait, attempt + 1, tries)
                time.sleep(wait)
            try:
                response = client.post(self.url, data=form,
                                       files={"file": ("audio.wav", wav, "audio/wav")})
            except httpx.TimeoutException:
                reason = f"no answer within {self.settings.transcriber_call_seconds:g} s"
                continue
            except httpx.TransportError as exc:  # refused, reset, DNS: the server is down or unreachable
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                continue
            if response.status_code in RETRY_STATUSES:
                reason = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                # An error body names the problem (unknown model, bad key); it never holds the transcript.
                raise self._unavailable(f"HTTP {response.status_code}: {response.text[:200]}")
            try:
                return ServerTranscription.model_validate(response.json())
            except (ValueError, ValidationError) as exc:
                # Not quoted: a half-valid answer can hold what was said, and this message is stored with the job.
                raise self._unavailable(f"not a verbose_json transcription ({type(exc).__name__})") from exc
        raise self._unavailable(f"{reason}, after {tries} tries")

    def _unavailable(self, reason: str) -> TranscriptionServerUnavailable:
        return TranscriptionServerUnavailable(url=self.url, reason=reason)


def wav_bytes(samples: np.ndarray) -> bytes:
    """16 kHz mono float samples as a 16-bit PCM WAV file in memory (what every transcription server reads)."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()
