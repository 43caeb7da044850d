"""A 12 s recording whose one loud stretch (a tone, 5–7 s) is where the recogniser was unsure of "dosis", and a
stand-in recogniser that hears it so: four uncertain words in three lines, with Whisper-like word times."""

from __future__ import annotations

from pathlib import Path

from assistant.models import Transcript
from assistant.speech.transcriber import SegmentCollector
from tests.support import audio_factory

TONE = (5.0, 7.0)  # where the tone lies in the recording
SECONDS = 12.0
HEARD = [
    # (word as Whisper gives it, start, end, probability); below 0.5 is marked uncertain
    [(" Vi", 0.5, 0.8, 0.95), (" gav", 0.8, 1.2, 0.40), (" insulin.", 1.2, 2.0, 0.90)],
    [(" Jens", 5.0, 5.4, 0.90), (" sagde", 5.4, 5.5, 0.95), (" dosis", 5.5, 6.5, 0.30), (" to.", 6.5, 7.0, 0.45)],
    [(" Det", 9.0, 9.5, 0.99), (" gik", 9.5, 10.0, 0.20), (" godt.", 10.0, 10.5, 0.90)],
]
UNCERTAIN = ["gav", "dosis", "to.", "gik"]  # in transcript order


class UnsureTranscriber:
    """Hands back HEARD for any recording (the real recognisers have their own tests)."""

    model_id = "fake-unsure"

    def transcribe(self, audio, progress=None) -> Transcript:
        collector = SegmentCollector(SECONDS, progress)
        for words in HEARD:
            collector.add(0.0, SECONDS, words[0][1], words[-1][2], "".join(w for w, *_ in words), words)
        return Transcript(segments=collector.segments, language="da", duration=SECONDS, model_id=self.model_id)


def recording(folder: Path, name: str = "debriefing.wav", frequency: float = 440.0) -> Path:
    """Quiet, then the tone over TONE, then quiet to SECONDS (a new ``frequency`` makes a different recording)."""
    before = audio_factory.silence(folder / f"before-{name}", TONE[0])
    tone = audio_factory.tone(folder / f"tone-{name}", TONE[1] - TONE[0], frequency=frequency)
    after = audio_factory.silence(folder / f"after-{name}", SECONDS - TONE[1])
    return audio_factory.concat([before, tone, after], folder / name)
