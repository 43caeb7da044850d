"""Transcribes one long recording with the real Whisper in a fresh process and reports time and peak memory.

Usage: python -m tests.support.long_recording_probe WARMUP_AUDIO AUDIO [--whole]

A fresh process, so the figure is this recording's own: the warm-up recording (one chunk long) first loads the
models and grows their buffers, then RSS is sampled while AUDIO goes through the transcriber. ``--whole``
measures decoding AUDIO in one piece instead (the control: what chunking avoids). Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import psutil

from assistant.bench import RssSampler
from assistant.settings import Settings
from assistant.speech import FasterWhisperTranscriber, decode_16k_mono


def main() -> None:
    warmup, audio = Path(sys.argv[1]), Path(sys.argv[2])
    settings = Settings(data_dir=audio.parent / "probe-data", cpu_threads=2, whisper_language="en")
    transcriber = FasterWhisperTranscriber(settings)
    transcriber.transcribe(warmup)
    before = psutil.Process().memory_info().rss / 2**20
    started = time.perf_counter()
    with RssSampler(interval=0.02) as sampler:
        if "--whole" in sys.argv:
            decode_16k_mono(audio)
            segments = []
        else:
            segments = transcriber.transcribe(audio).segments
    print(json.dumps({
        "growth_mb": round(sampler.peak_mb - before, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "segments": [{"start": s.start, "text": s.text} for s in segments],
    }))


if __name__ == "__main__":
    main()
