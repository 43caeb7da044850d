"""The tests' OpenAI-compatible transcription server (``POST /v1/audio/transcriptions``).

It lives in ``assistant/speech/local_server.py`` because ``debrief bench`` starts the same server to compare the
server backend with in-process transcription; serve it with ``tests.support.servers.app_in_thread``.
"""

from __future__ import annotations

from assistant.speech.local_server import Answer, Received, transcription_app, whisper_answer

__all__ = ["Answer", "Received", "transcription_app", "whisper_answer"]
