"""Optional backend: OpenAI's reference ``openai-whisper`` package with ``.pt`` checkpoints.

Kept for users who already have ``.pt`` files; it pulls in torch (and triton, ~1 GB), so it is not installed
by default. ``DEBRIEF_WHISPER_MODEL`` is a ``.pt`` path, or a size name fetched into the model cache when chosen.
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

_models: dict[tuple[str, str], Any] = {}
_models_lock = threading.Lock()


class OpenAIWhisperTranscriber:
    """openai-whisper's ``transcribe`` per chunk, with the same anti-looping choices as the default backend."""

    def __init__(self, settings: Settings, chunk_seconds: float = CHUNK_SECONDS) -> None:
        require_package("whisper", "'debrief[openai-whisper]'", "openai-whisper")
        if settings.whisper_model == "bundled":
            raise ModelUnavailable(
                "model.unavailable",
                name="bundled",
                reason="no .pt checkpoint is bundled; set DEBRIEF_WHISPER_MODEL to a .pt file for openai-whisper",
            )
        self.settings = settings
        self.chunk_seconds = chunk_seconds
        self.model_id = f"openai-whisper:{Path(settings.whisper_model).stem}:{self._precision()}"

    def transcribe(self, audio: np.ndarray | Path, progress: ProgressCallback | None = None) -> Transcript:
        """Transcribe chunk by chunk (segment times are from the start of the recording)."""
        model = self.model()
        collector = SegmentCollector(total_seconds(audio), progress)
        language = self.settings.whisper_language
        detected: str | None = None
        recorded = 0.0
        for offset, chunk in chunks_with_offsets(audio, self.chunk_seconds):
            length = len(chunk) / SAMPLE_RATE
            if length == 0:
                continue
            result = model.transcribe(
                chunk.astype(np.float32, copy=False),
                language=language,
                beam_size=self.settings.whisper_beam_size,
                condition_on_previous_text=False,
                fp16=self._precision() == "float16",
                verbose=None,
            )
            for segment in result.get("segments", []):
                collector.add(offset, length, float(segment["start"]), float(segment["end"]), segment["text"])
            detected = detected or result.get("language")
            recorded = offset + length
            collector.report(recorded)
        return collector.transcript(language or detected, recorded, self.model_id)

    def model(self) -> Any:
        """The loaded model (imports whisper and torch only now), shared per process."""
        key = (self.settings.whisper_model, self.settings.whisper_device)
        with _models_lock:
            if key not in _models:
                _models[key] = self._load()
            return _models[key]

    def _precision(self) -> str:
        return "float16" if self.settings.whisper_device.startswith("cuda") else "float32"

    def _load(self) -> Any:
        try:
            import whisper
        except ImportError as exc:
            raise ModelUnavailable("model.unavailable", name="openai-whisper", reason=str(exc)) from exc
        try:
            return whisper.load_model(
                self.settings.whisper_model,
                device=self.settings.whisper_device,
                download_root=str(self.settings.models_dir / "openai-whisper"),
            )
        except Exception as exc:  # missing file, bad checkpoint, no network for a size name
            raise ModelUnavailable(
                "model.unavailable", name=self.settings.whisper_model, reason=f"{exc.__class__.__name__}: {exc}"
            ) from exc
