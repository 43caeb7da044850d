"""Speech to text: decoding recordings, the transcriber backends behind one protocol, and spoken test audio."""

from __future__ import annotations

from assistant.speech.audio import (
    SAMPLE_RATE,
    check_not_silent,
    content_hash,
    decode_16k_mono,
    decode_window_16k_mono,
    is_silent,
    iter_chunks_16k_mono,
    probe,
    validate_recording,
)
from assistant.speech.backends import make_transcriber
from assistant.speech.faster_whisper_backend import FasterWhisperTranscriber
from assistant.speech.openai_server_backend import OpenAIServerTranscriber
from assistant.speech.openai_whisper_backend import OpenAIWhisperTranscriber
from assistant.speech.spoken_audio import clip, speak, words_of_debrief, write_wav
from assistant.speech.transcriber import Transcriber

__all__ = [
    "FasterWhisperTranscriber",
    "OpenAIServerTranscriber",
    "OpenAIWhisperTranscriber",
    "SAMPLE_RATE",
    "Transcriber",
    "check_not_silent",
    "clip",
    "content_hash",
    "decode_16k_mono",
    "decode_window_16k_mono",
    "is_silent",
    "iter_chunks_16k_mono",
    "make_transcriber",
    "probe",
    "speak",
    "validate_recording",
    "words_of_debrief",
    "write_wav",
]
