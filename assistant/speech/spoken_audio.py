"""Danish test speech from text with espeak-ng, so no audio has to be shipped or downloaded."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from importlib.resources import files
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000


def debrief_text() -> str:
    """A short synthetic Danish debrief (ISBAR-shaped) used to build clips and transcripts of any length."""
    return files("assistant.bench").joinpath("data/debrief_da.txt").read_text("utf-8")


def words_of_debrief(n_words: int) -> str:
    """``n_words`` words of Danish debrief text (the shipped text repeated)."""
    words = debrief_text().split()
    return " ".join(words[i % len(words)] for i in range(n_words))


def speak(text: str, voice: str = "da", rate: int = 160, pitch: int | None = None) -> np.ndarray:
    """16 kHz mono float32 speech for ``text`` from espeak-ng (``voice`` e.g. "da+f2"; ``pitch`` 0-99)."""
    tool = shutil.which("espeak-ng")
    if tool is None:
        raise RuntimeError("espeak-ng is needed to generate benchmark audio (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "speech.wav"
        pitched = ["-p", str(pitch)] if pitch is not None else []
        subprocess.run([tool, "-v", voice, "-s", str(rate), *pitched, "-w", str(raw), text], check=True,
                       capture_output=True)
        with wave.open(str(raw)) as f:
            rate_in, frames = f.getframerate(), f.readframes(f.getnframes())
    samples = np.frombuffer(frames, dtype=np.int16).astype(np.float32) / 32768.0
    if rate_in != SAMPLE_RATE:
        positions = np.arange(0, len(samples), rate_in / SAMPLE_RATE)
        samples = np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)
    return samples


def clip(seconds: float, voice: str = "da") -> np.ndarray:
    """A clip of exactly ``seconds`` of speech: the debrief spoken once, repeated with short pauses, cut."""
    once = speak(debrief_text(), voice)
    pause = np.zeros(int(0.4 * SAMPLE_RATE), dtype=np.float32)
    unit = np.concatenate([once, pause])
    needed = int(seconds * SAMPLE_RATE)
    repeats = needed // len(unit) + 1
    return np.tile(unit, repeats)[:needed]


def write_wav(path: Path, samples: np.ndarray) -> Path:
    """Write 16 kHz mono 16-bit PCM."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(SAMPLE_RATE)
        f.writeframes(pcm.tobytes())
    return path
