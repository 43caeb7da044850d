"""A small OpenAI-compatible transcription server for the tests: ``POST /v1/audio/transcriptions``.

By default it answers with the bundled Whisper base through faster-whisper (the model the other speech tests
load, shared in-process), in the verbose_json shape speaches/faster-whisper servers give: segments, words with
probabilities. Tests can make it fail the first requests with 503, answer slowly, or answer with something else.
Serve it with ``tests.support.servers.app_in_thread``.
"""

from __future__ import annotations

import asyncio
import io
import wave
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from assistant.settings import Settings

Answer = Callable[[np.ndarray, dict], dict]


@dataclass
class Received:
    """What the server was sent, for tests to check the request."""

    forms: list[dict] = field(default_factory=list)
    authorization: list[str | None] = field(default_factory=list)


def whisper_answer(settings: Settings) -> Answer:
    """Transcribe with the bundled model as a faster-whisper server would (verbose_json, word timings)."""
    from assistant.speech.faster_whisper_backend import (
        NO_REPEAT_NGRAM_SIZE,
        REPETITION_PENALTY,
        WITH_VAD,
        FasterWhisperTranscriber,
    )

    model = FasterWhisperTranscriber(settings).model()

    def answer(samples: np.ndarray, form: dict) -> dict:
        words = "word" in form["timestamp_granularities[]"]
        # The in-process backend's decoding choices, so the two can be compared on the same model.
        segments, info = model.transcribe(samples, language=form.get("language"), beam_size=settings.whisper_beam_size,
                                          vad_filter=True, condition_on_previous_text=False,
                                          repetition_penalty=REPETITION_PENALTY,
                                          no_repeat_ngram_size=NO_REPEAT_NGRAM_SIZE, word_timestamps=words,
                                          **WITH_VAD)
        listed = [
            {"id": i, "start": s.start, "end": s.end, "text": s.text,
             "words": [{"word": w.word, "start": w.start, "end": w.end, "probability": w.probability}
                       for w in (s.words or [])]}
            for i, s in enumerate(segments)
        ]
        return {"task": "transcribe", "language": info.language, "duration": info.duration,
                "text": "".join(s["text"] for s in listed), "segments": listed,
                "words": [w for s in listed for w in s["words"]]}

    return answer


def transcription_app(answer: Answer, *, failures: int = 0, delay: float = 0.0) -> tuple[FastAPI, Received]:
    """The app and a record of what it received; the first ``failures`` requests get 503, each waits ``delay`` s."""
    app = FastAPI()
    received = Received()

    @app.post("/v1/audio/transcriptions")
    async def transcriptions(request: Request):
        form = await request.form()
        upload = form["file"]
        fields = {key: form.get(key) for key in form if key not in ("file", "timestamp_granularities[]")}
        fields["timestamp_granularities[]"] = form.getlist("timestamp_granularities[]")
        received.forms.append(fields)
        received.authorization.append(request.headers.get("authorization"))
        if len(received.forms) <= failures:
            return JSONResponse({"error": "loading the model"}, status_code=503)
        await asyncio.sleep(delay)
        samples = _samples(await upload.read())
        return await run_in_threadpool(answer, samples, fields)

    return app, received


def _samples(wav: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(wav)) as audio:
        assert (audio.getnchannels(), audio.getframerate(), audio.getsampwidth()) == (1, 16000, 2)
        pcm = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768
