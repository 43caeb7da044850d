"""Speech-to-text backends behind one ``Transcriber`` protocol, chosen by ``settings.transcriber``.

``faster-whisper`` (default, bundled Whisper base, or any size/hub id/folder), ``transformers`` (Danish
fine-tunes), ``openai-whisper`` (``.pt`` checkpoints) and ``openai`` (an OpenAI-compatible transcription server);
the optional ones import their packages lazily.
"""

from __future__ import annotations

from assistant.errors import ModelUnavailable
from assistant.settings import Settings
from assistant.speech.transcriber import Transcriber


def make_transcriber(settings: Settings) -> Transcriber:
    """The transcriber the settings ask for; the model itself loads on the first ``transcribe``."""
    if settings.transcriber == "faster-whisper":
        from assistant.speech.faster_whisper_backend import FasterWhisperTranscriber

        return FasterWhisperTranscriber(settings)
    if settings.transcriber == "transformers":
        from assistant.speech.transformers_backend import TransformersTranscriber

        return TransformersTranscriber(settings)
    if settings.transcriber == "openai-whisper":
        from assistant.speech.openai_whisper_backend import OpenAIWhisperTranscriber

        return OpenAIWhisperTranscriber(settings)
    if settings.transcriber == "openai":
        from assistant.speech.openai_server_backend import OpenAIServerTranscriber

        return OpenAIServerTranscriber(settings)
    raise ModelUnavailable("model.unavailable", name=str(settings.transcriber), reason="unknown transcriber backend")


__all__ = ["Transcriber", "make_transcriber"]
