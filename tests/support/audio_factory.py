"""Make real audio files for tests: espeak-ng speech, tones, silence, other containers, and broken uploads.

Everything is generated on the fly from tools installed on the machine (espeak-ng, PyAV's bundled FFmpeg),
so tests exercise the same decoders that real uploads meet. A missing tool fails loudly with the fix.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 16_000

# extension → (container, audio codec, codec sample rate or None to keep, video codec or None)
_FORMATS: dict[str, tuple[str, str, int | None, str | None]] = {
    ".wav": ("wav", "pcm_s16le", None, None),
    ".flac": ("flac", "flac", None, None),
    ".mp3": ("mp3", "libmp3lame", None, None),
    ".ogg": ("ogg", "vorbis", None, None),  # FFmpeg's own Vorbis encoder: stereo only
    ".opus": ("opus", "libopus", 48_000, None),
    ".m4a": ("ipod", "aac", None, None),
    ".webm": ("webm", "libopus", 48_000, None),
    ".mp4": ("mp4", "aac", None, "mpeg4"),  # a phone video: a picture track beside the sound
}
_FIXED_CHANNELS = {"vorbis": 2}
FORMATS = tuple(_FORMATS)


def require_tool(name: str, package: str | None = None) -> str:
    """The tool's path; fails (never skips) with the install command when it is missing."""
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is required by the tests: install it with `apt-get install {package or name}`")
    return found


def speak(text: str, path: Path, voice: str = "en", rate: int | None = None) -> Path:
    """Synthesise ``text`` with espeak-ng into a 22.05 kHz mono WAV (``voice`` "en" or "da"; ``rate`` words/min)."""
    command = [require_tool("espeak-ng"), "-v", voice, "-w", str(path)]
    if rate is not None:
        command += ["-s", str(rate)]
    subprocess.run([*command, text], check=True, capture_output=True)
    return path


def write_wav(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    """Write float samples in [-1, 1] (shape (n,) or (n, channels)) as 16-bit PCM WAV."""
    data = np.asarray(samples, dtype=np.float32)
    channels = 1 if data.ndim == 1 else data.shape[1]
    pcm = (np.clip(data, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def tone(
    path: Path,
    seconds: float,
    frequency: float = 440.0,
    rate: int = SAMPLE_RATE,
    channels: int = 1,
    amplitude: float = 0.3,
) -> Path:
    """A sine tone (the same in every channel), loud enough not to count as silence."""
    t = np.arange(round(seconds * rate)) / rate
    mono = amplitude * np.sin(2 * np.pi * frequency * t)
    return write_wav(path, mono if channels == 1 else np.repeat(mono[:, None], channels, axis=1), rate)


def silence(path: Path, seconds: float, rate: int = SAMPLE_RATE, channels: int = 1) -> Path:
    """Digital silence of the given length."""
    shape = (round(seconds * rate),) if channels == 1 else (round(seconds * rate), channels)
    return write_wav(path, np.zeros(shape, dtype=np.float32), rate)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Float samples (n, channels) and the sample rate of a 16-bit WAV written here or by espeak-ng."""
    with wave.open(str(path), "rb") as src:
        pcm = np.frombuffer(src.readframes(src.getnframes()), dtype="<i2")
        return (pcm.reshape(-1, src.getnchannels()).astype(np.float32) / 32768.0), src.getframerate()


def concat(paths: list[Path], dst: Path, gap_seconds: float = 0.0) -> Path:
    """Join 16-bit WAVs (resampled to the first one's rate and channels) with optional silence between them."""
    first, rate = read_wav(paths[0])
    channels = first.shape[1]
    gap = np.zeros((round(gap_seconds * rate), channels), dtype=np.float32)
    pieces = []
    for index, path in enumerate(paths):
        samples, own_rate = read_wav(path)
        if own_rate != rate:
            positions = np.arange(round(len(samples) * rate / own_rate)) * own_rate / rate
            samples = np.stack([np.interp(positions, np.arange(len(samples)), c) for c in samples.T], axis=1)
        if samples.shape[1] != channels:
            samples = np.repeat(samples.mean(axis=1, keepdims=True), channels, axis=1)
        pieces += [gap, samples] if index else [samples]
    return write_wav(dst, np.concatenate(pieces).astype(np.float32), rate)


def convert(
    src: Path, dst: Path | str, rate: int | None = None, channels: int | None = None, live: bool = False
) -> Path:
    """Re-encode a WAV into another container with PyAV; ``dst`` is a path or just an extension like ".m4a".

    The extension picks the container and codec (see ``FORMATS``); ``rate`` and ``channels`` change the
    recorded sample rate and channel count (Opus always stores 48 kHz, Vorbis here always stereo).
    ``live`` writes a WebM the way a browser's MediaRecorder does: no duration in the header.
    """
    target = src.with_suffix(dst) if isinstance(dst, str) and dst.startswith(".") else Path(dst)
    container_format, codec, codec_rate, video_codec = _FORMATS[target.suffix]
    samples, own_rate = read_wav(src)
    channels = _FIXED_CHANNELS.get(codec, channels)
    if channels is not None and channels != samples.shape[1]:
        samples = np.repeat(samples.mean(axis=1, keepdims=True), channels, axis=1)
    layout = {1: "mono", 2: "stereo", 6: "5.1"}[samples.shape[1]]
    source_rate = rate or own_rate
    if rate is not None and rate != own_rate:
        positions = np.arange(round(len(samples) * rate / own_rate)) * own_rate / rate
        samples = np.stack([np.interp(positions, np.arange(len(samples)), c) for c in samples.T], axis=1)
    options = {"live": "1"} if live else {}
    with av.open(str(target), "w", format=container_format, container_options=options) as out:
        stream = out.add_stream(codec, rate=codec_rate or source_rate, layout=layout)
        stream.codec_context.options = {"strict": "experimental"}
        video = _add_video(out, video_codec) if video_codec else None
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples.T.astype(np.float32)), format="fltp", layout=layout
        )
        frame.sample_rate = source_rate
        resampler = av.AudioResampler(
            format=stream.codec_context.format, layout=layout, rate=stream.codec_context.sample_rate
        )
        fifo = av.AudioFifo()
        for piece in [*resampler.resample(frame), *resampler.resample(None)]:
            piece.pts = None
            fifo.write(piece)
        frame_size = stream.codec_context.frame_size or 1024
        pts = 0
        while fifo.samples:
            chunk = fifo.read(min(frame_size, fifo.samples))
            chunk.pts = pts
            pts += chunk.samples
            out.mux(stream.encode(chunk))
        out.mux(stream.encode(None))
        if video is not None:
            _write_video(out, video, seconds=len(samples) / source_rate)
    return target


def _add_video(out: av.container.OutputContainer, codec: str) -> av.VideoStream:
    stream = out.add_stream(codec, rate=2)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    return stream


def _write_video(out: av.container.OutputContainer, stream: av.VideoStream, seconds: float) -> None:
    picture = np.zeros((48, 64, 3), dtype=np.uint8)
    for index in range(max(1, int(seconds * 2))):
        picture[:] = (index * 40) % 255
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        frame.pts, frame.time_base = index, Fraction(1, 2)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def truncate(src: Path, dst: Path, keep_fraction: float = 0.5) -> Path:
    """A copy cut off part-way, like an upload that broke off."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep_fraction)])
    return dst


def text_file_renamed(path: Path) -> Path:
    """A text file given an audio name (``path`` says which), as a user might upload by mistake."""
    path.write_text("Referat af debriefing\nDette er ikke en lydfil, men tekst med et .wav-navn.\n" * 20)
    return path


def image_file(path: Path) -> Path:
    """A small PNG picture (written with PyAV), for uploads that are not sound at all."""
    with av.open(str(path), "w", format="image2", options={"update": "1"}) as out:
        stream = out.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "rgb24"
        frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 200, dtype=np.uint8), format="rgb24")
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path
