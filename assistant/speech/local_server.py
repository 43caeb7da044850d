"""A small OpenAI-compatible transcription server on the local model: ``POST /v1/audio/transcriptions``.

It answers with the configured Whisper (by default the bundled base) through faster-whisper, with the in-process
backend's decoding choices and the model that backend loaded (shared in-process), in the verbose_json shape
speaches/faster-whisper servers give: segments, words with probabilities. The tests speak to it to check the
transcription-server backend (``DEBRIEF_TRANSCRIBER=openai``) against a real server; ``debrief bench`` runs the same
clip through it and in-process to measure what the server path costs. Tests can make it fail the first requests
with 503, answer slowly, or answer with something else. :func:`serve_in_thread` serves it (or any ASGI app) on a
free loopback port. Not meant as a production server: use speaches, vLLM or whisper.cpp's server for that.
"""

from __future__ import annotations

import asyncio
import io
import socket
import threading
import time
import wave
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.concurrency import run_in_threadpool

from assistant.settings import Settings

Answer = Callable[[np.ndarray, dict], dict]


@dataclass
class Received:
    """What the server was sent, for tests to check the request."""

    forms: list[dict] = field(default_factory=list)
    authorization: list[str | None] = field(default_factory=list)


def whisper_answer(settings: Settings) -> Answer:
    """Transcribe with the configured model as a faster-whisper server would (verbose_json, word timings)."""
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
                                          vad_filter=settings.whisper_vad, condition_on_previous_text=False,
                                          repetition_penalty=REPETITION_PENALTY,
                                          no_repeat_ngram_size=NO_REPEAT_NGRAM_SIZE, word_timestamps=words,
                                          **(WITH_VAD if settings.whisper_vad else {}))
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
        samples = samples_of_wav(await upload.read())
        return await run_in_threadpool(answer, samples, fields)

    return app, received


def samples_of_wav(wav: bytes) -> np.ndarray:
    """16 kHz mono 16-bit WAV bytes as the float samples the model gets (what the server hears of a request)."""
    with wave.open(io.BytesIO(wav)) as audio:
        assert (audio.getnchannels(), audio.getframerate(), audio.getsampwidth()) == (1, 16000, 2)
        pcm = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_in_thread(app, name: str = "debrief-local-server", lifespan: str = "auto") -> Iterator[str]:
    """Serve an ASGI app under uvicorn on a free loopback port in this process; yields its URL, stops it after.

    ``lifespan="off"`` for an app without startup or shutdown work: the forced stop then logs no cancelled task.
    """
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning",
                                           lifespan=lifespan))
    thread = threading.Thread(target=server.run, daemon=True, name=name)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the server {name} did not start")
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = server.force_exit = True  # open event streams would otherwise hold it for seconds
        thread.join(timeout=10)
