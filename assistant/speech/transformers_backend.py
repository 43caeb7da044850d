"""Scale-out option: any Hugging Face speech model through the transformers ASR pipeline.

This is how Danish fine-tunes run (e.g. ``CoRal-project/roest-whisper-large-v1``, ``syvai/hviske-v2``): set
``DEBRIEF_TRANSCRIBER=transformers`` and ``DEBRIEF_WHISPER_MODEL`` to the hub id or a local folder. Needs the
``transformers`` and ``torch`` packages (not installed by default); a hub id is fetched only when chosen.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import ModelUnavailable
from assistant.models import Transcript
from assistant.settings import Settings
from assistant.speech.audio import SAMPLE_RATE
from assistant.speech.transcriber import (
    CHUNK_SECONDS,
    ProgressCallback,
    SegmentCollector,
    chunks_with_offsets,
    require_package,
    total_seconds,
)

# CTC models (wav2vec2) give word times only; words are grouped into segments at pauses or at this many words.
_PAUSE_SECONDS = 0.8
_WORDS_PER_SEGMENT = 30

_pipelines: dict[tuple[str, str, str], Any] = {}
_pipelines_lock = threading.Lock()


class TransformersTranscriber:
    """A transformers ``automatic-speech-recognition`` pipeline, loaded on first use and shared per process."""

    def __init__(self, settings: Settings, chunk_seconds: float = CHUNK_SECONDS) -> None:
        require_package("transformers", "'debrief[transformers-asr]'", "transformers")
        require_package("torch", "'debrief[transformers-asr]'", "transformers")
        if settings.whisper_model == "bundled":
            raise ModelUnavailable(
                "model.unavailable",
                name="bundled",
                reason="the bundled Whisper base is a CTranslate2 model for faster-whisper; set "
                "DEBRIEF_WHISPER_MODEL to a transformers model id or folder, e.g. CoRal-project/roest-whisper-large-v1",
            )
        self.settings = settings
        self.chunk_seconds = chunk_seconds
        label = Path(settings.whisper_model).name if Path(settings.whisper_model).is_dir() else settings.whisper_model
        self.model_id = f"transformers:{label}:{self._dtype_name()}"

    def transcribe(self, audio: np.ndarray | Path, progress: ProgressCallback | None = None) -> Transcript:
        """Transcribe chunk by chunk; Whisper models give segment times, CTC models word times grouped at pauses."""
        pipe = self.pipeline()
        is_whisper = getattr(pipe.model.config, "model_type", "") == "whisper"
        collector = SegmentCollector(total_seconds(audio), progress)
        recorded = 0.0
        for offset, chunk in chunks_with_offsets(audio, self.chunk_seconds):
            length = len(chunk) / SAMPLE_RATE
            if length == 0:
                continue
            inputs = {"raw": chunk, "sampling_rate": SAMPLE_RATE}
            if is_whisper:
                generate: dict[str, Any] = {"task": "transcribe", "num_beams": self.settings.whisper_beam_size}
                if self.settings.whisper_language:
                    generate["language"] = self.settings.whisper_language
                result = pipe(inputs, chunk_length_s=30, return_timestamps=True, generate_kwargs=generate)
                pieces = [(c["timestamp"], c["text"]) for c in result.get("chunks", [])]
            else:
                result = pipe(inputs, chunk_length_s=30, return_timestamps="word")
                pieces = _group_words(result.get("chunks", []))
            for (start, end), text in pieces:
                start = 0.0 if start is None else float(start)
                collector.add(offset, length, start, length if end is None else float(end), text)
            recorded = offset + length
            collector.report(recorded)
        return collector.transcript(self.settings.whisper_language, recorded, self.model_id)

    def pipeline(self) -> Any:
        """The loaded pipeline (imports transformers and torch only now)."""
        s = self.settings
        key = (s.whisper_model, s.whisper_device, s.whisper_compute_type)
        with _pipelines_lock:
            if key not in _pipelines:
                _pipelines[key] = self._load()
            return _pipelines[key]

    def _dtype_name(self) -> str:
        uses_gpu = self.settings.whisper_device.startswith("cuda")
        return "float16" if uses_gpu and "float16" in self.settings.whisper_compute_type else "float32"

    def _load(self) -> Any:
        try:
            import torch
            from transformers import pipeline
        except ImportError as exc:
            raise ModelUnavailable("model.unavailable", name="transformers", reason=str(exc)) from exc
        options: dict[str, Any] = {"device": self.settings.whisper_device}
        if self._dtype_name() == "float16":
            options["dtype"] = torch.float16
        try:
            return pipeline("automatic-speech-recognition", model=self.settings.whisper_model, **options)
        except Exception as exc:  # hub, file and CUDA errors all mean the model cannot be used
            raise ModelUnavailable(
                "model.unavailable", name=self.settings.whisper_model, reason=f"{exc.__class__.__name__}: {exc}"
            ) from exc


def _group_words(words: list[dict[str, Any]]) -> list[tuple[tuple[float, float], str]]:
    groups: list[tuple[tuple[float, float], str]] = []
    current: list[str] = []
    start = end = 0.0
    for word in words:
        w_start, w_end = word["timestamp"]
        w_start = end if w_start is None else float(w_start)
        w_end = w_start if w_end is None else float(w_end)
        if current and (w_start - end > _PAUSE_SECONDS or len(current) >= _WORDS_PER_SEGMENT):
            groups.append(((start, end), " ".join(current)))
            current = []
        if not current:
            start = w_start
        current.append(word["text"].strip())
        end = w_end
    if current:
        groups.append(((start, end), " ".join(current)))
    return groups
