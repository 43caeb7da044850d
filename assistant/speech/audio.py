"""Audio intake: check an upload cheaply before any heavy work, then decode it to 16 kHz mono float32 for Whisper.

PyAV (FFmpeg bundled in the wheel, no system ffmpeg) opens every common container: wav, mp3, m4a/mp4 (with or
without video), ogg/opus, webm, flac. Checks run cheapest first — size before opening, container metadata
before decoding — so a 2-hour or 1 GB upload is refused in milliseconds, and a truncated upload is refused
before a transcript of half the debrief is made.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import av
import numpy as np
from pydantic import BaseModel, Field

from assistant.errors import InvalidAudio
from assistant.settings import Settings

SAMPLE_RATE = 16_000
_FRAME = SAMPLE_RATE // 10  # 100 ms, the unit for loudness and quiet cut points
_BLOCK = 1024 * 1024
_PROBE_DECODE_SECONDS = 5.0  # decode this much up front to prove the codec data is sound
_MAX_BAD_PACKETS = 10
# A damaged stretch inside a file is skipped by the demuxer (Ogg pages and FLAC frames fail their checksums), which
# leaves a hole in the packets' timestamps; more missing than this is refused rather than silently left out.
_MAX_MISSING_SECONDS = 0.25
_GAP_TOLERANCE_SECONDS = 0.02  # timestamp rounding between packets
# Bytes overwritten inside PCM (wav) decode as full-scale white noise, which no microphone records: RMS above
# this fraction of full scale with no correlation between neighbouring samples, for longer than the limit above.
_GARBLED_RMS = 0.3
_GARBLED_CORRELATION = 0.25

# Containers whose header states the full length, so a shorter stream means the file was cut off.
# (Ogg has no such header: its length is read from the last page, so a cut Ogg is simply shorter.)
_LENGTH_IN_HEADER = {"matroska,webm", "mov,mp4,m4a,3gp,3g2,mj2", "flac"}

# First bytes of media files; a file that starts like media but will not open is corrupt, not "not audio".
_MEDIA_MAGIC = (
    b"RIFF",
    b"RF64",
    b"FORM",
    b"OggS",
    b"fLaC",
    b"ID3",
    b"\x1aE\xdf\xa3",
    b"caff",
    b"#!AMR",
    b"\x30\x26\xb2\x75",
    b".snd",
    b"wvpk",
    b"MAC ",
)
_MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")


class AudioInfo(BaseModel):
    """What we know about an accepted upload without having decoded all of it."""

    sha256: str
    size_bytes: int = Field(ge=0)
    duration_seconds: float = Field(ge=0)
    sample_rate: int = Field(ge=0)
    channels: int = Field(ge=0)
    codec: str
    container: str


def content_hash(path: Path) -> str:
    """Streaming sha256 of the file's bytes (the same recording uploaded twice has the same hash)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def probe(path: Path, settings: Settings) -> AudioInfo:
    """Validate an upload cheapest-check-first and describe it; raises InvalidAudio with the reason's key."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise InvalidAudio("audio.empty")
    if size > settings.max_upload_bytes:
        raise InvalidAudio(
            "audio.too_big", megabytes=_megabytes(size), limit_megabytes=_megabytes(settings.max_upload_bytes)
        )
    with _open(path) as container:
        stream = _audio_stream(container)
        declared = _declared_seconds(container, stream)
        if declared is not None and declared > settings.max_audio_seconds:
            raise _too_long(declared, settings)
        measured, missing = _demuxed_seconds(container, stream, settings)
        if declared is not None and _is_cut_off(path, container, declared, measured):
            raise InvalidAudio("audio.corrupt")
        if missing > _MAX_MISSING_SECONDS:
            raise InvalidAudio("audio.damaged_inside", seconds=round(missing, 1))
        # Packet extents include encoder priming; a header that states less is the truer length.
        seconds = measured if declared is None else min(declared, measured)
        if seconds < settings.min_audio_seconds:
            raise InvalidAudio("audio.too_short", seconds=round(seconds, 1), limit_seconds=settings.min_audio_seconds)
        codec, container_name = stream.codec_context.codec.canonical_name, container.format.name
    with _open(path) as container:  # a fresh read: seeking back is unreliable in files without an index
        sample_rate, channels = _check_decodes(container, _audio_stream(container))
    if container_name == "wav":
        garbled = _garbled_seconds(path)
        if garbled > _MAX_MISSING_SECONDS:
            raise InvalidAudio("audio.damaged_inside", seconds=round(garbled, 1))
    return AudioInfo(
        sha256=content_hash(path),
        size_bytes=size,
        duration_seconds=round(seconds, 3),
        sample_rate=sample_rate,
        channels=channels,
        codec=codec,
        container=container_name,
    )


def validate_recording(path: Path, settings: Settings, threshold_dbfs: float = -50.0) -> AudioInfo:
    """``probe`` plus a check that the recording is not silent: the full gate for an upload."""
    info = probe(path, settings)
    check_not_silent(path, threshold_dbfs)
    return info


def duration_seconds(path: Path) -> float:
    """The length of the first audio stream: from the header when it says, else by reading the packets."""
    with _open(Path(path)) as container:
        stream = _audio_stream(container)
        declared = _declared_seconds(container, stream)
        return declared if declared is not None else _packet_extent(container, stream, limit=None)[0]


def decode_16k_mono(path: Path) -> np.ndarray:
    """The whole recording as 16 kHz mono float32 in [-1, 1] (any rate, any channel layout)."""
    pieces = list(_resampled(Path(path)))
    if not pieces:
        raise InvalidAudio("audio.corrupt")
    return np.concatenate(pieces)


def iter_chunks_16k_mono(path: Path, seconds: float = 600.0) -> Iterator[np.ndarray]:
    """Yield the recording as 16 kHz mono chunks of at most ``seconds`` each, so memory stays bounded.

    Each cut is moved back to the quietest 100 ms in the chunk's last 10 % (at most 5 s), so words are rarely
    split; the chunks laid end to end are exactly the decoded recording, so offsets are cumulative lengths.
    """
    size = max(_FRAME, int(seconds * SAMPLE_RATE))
    buffer: list[np.ndarray] = []
    buffered = 0
    for piece in _resampled(Path(path)):
        buffer.append(piece)
        buffered += len(piece)
        while buffered >= size:
            joined = np.concatenate(buffer)
            cut = _quiet_cut(joined[:size])
            yield joined[:cut]
            rest = joined[cut:]
            buffer, buffered = [rest], len(rest)
    if buffered:
        yield np.concatenate(buffer)


def decode_window_16k_mono(path: Path, start: float, end: float) -> np.ndarray:
    """The stretch ``start``–``end`` seconds of the recording as 16 kHz mono float32 (empty past its end).

    Decodes from the beginning rather than seeking, so the offsets are the same sample counts the
    transcript's timestamps were measured in; decoding stops as soon as ``end`` is reached.
    """
    first, last = max(0, round(start * SAMPLE_RATE)), max(0, round(end * SAMPLE_RATE))
    pieces: list[np.ndarray] = []
    position = 0
    with closing(_resampled(Path(path))) as decoded:
        for piece in decoded:
            if position + len(piece) > first:
                pieces.append(piece[max(0, first - position) : max(0, last - position)])
            position += len(piece)
            if position >= last:
                break
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)


def is_silent(samples: np.ndarray, threshold_dbfs: float = -50.0) -> bool:
    """True when no 100 ms stretch is louder than ``threshold_dbfs`` (RMS; a full-scale sine is -3 dBFS)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size == 0:
        return True
    frames = len(samples) // _FRAME
    if frames == 0:
        loudest = float(np.sqrt(np.mean(np.square(samples))))
    else:
        blocks = samples[: frames * _FRAME].reshape(frames, _FRAME)
        loudest = float(np.sqrt(np.square(blocks).mean(axis=1)).max())
    return 20 * np.log10(max(loudest, 1e-10)) < threshold_dbfs


def check_not_silent(source: Path | np.ndarray, threshold_dbfs: float = -50.0) -> None:
    """Raise InvalidAudio("audio.silent") for a silent recording; stops decoding at the first sound."""
    if isinstance(source, np.ndarray):
        chunks: Iterator[np.ndarray] = iter([source])
    else:
        chunks = iter_chunks_16k_mono(Path(source), seconds=30.0)
    for chunk in chunks:
        if not is_silent(chunk, threshold_dbfs):
            return
    raise InvalidAudio("audio.silent")


# -- opening and checking ------------------------------------------------------------------------------------


@contextmanager
def _open(path: Path) -> Iterator[av.container.InputContainer]:
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise InvalidAudio("audio.corrupt" if _looks_like_media(path) else "audio.not_audio") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidAudio("audio.not_audio") from exc
    try:
        yield container
    finally:
        container.close()


def _looks_like_media(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(12)
    if head.startswith(_MEDIA_MAGIC) or head[4:8] in _MP4_BOXES:
        return True
    # An MPEG audio frame (MP3, AAC in ADTS) starts with eleven set sync bits.
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0


def _audio_stream(container: av.container.InputContainer) -> av.AudioStream:
    streams = [s for s in container.streams.audio if s.codec_context.channels != 0 or s.codec_context.sample_rate]
    if not streams:
        raise InvalidAudio("audio.not_audio")
    return streams[0]


def _declared_seconds(container: av.container.InputContainer, stream: av.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    return None


def _demuxed_seconds(
    container: av.container.InputContainer, stream: av.AudioStream, settings: Settings
) -> tuple[float, float]:
    """How far the packets really reach, and how many seconds are missing between them; reading stops as soon
    as the length limit is passed."""
    try:
        seconds, missing = _packet_extent(container, stream, limit=settings.max_audio_seconds)
    except av.FFmpegError as exc:
        raise InvalidAudio("audio.corrupt") from exc
    if seconds > settings.max_audio_seconds:
        raise _too_long(seconds, settings)
    return seconds, missing


def _packet_extent(
    container: av.container.InputContainer, stream: av.AudioStream, limit: float | None
) -> tuple[float, float]:
    """The span the packets cover, and the sum of the holes between them (packets the demuxer had to skip)."""
    start: float | None = None
    end = 0.0
    missing = 0.0
    for packet in container.demux(stream):
        if packet.pts is None or packet.time_base is None:
            continue
        begin = float(packet.pts * packet.time_base)
        if start is not None and begin > end + _GAP_TOLERANCE_SECONDS:
            missing += begin - end
        start = begin if start is None else min(start, begin)
        end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
        if limit is not None and end - start > limit:
            break
    return (0.0 if start is None else max(0.0, end - start)), missing


def _garbled_seconds(path: Path) -> float:
    """The longest stretch of a PCM recording that decodes as full-scale white noise (overwritten bytes)."""
    pcm16 = _wav_pcm16_layout(path)
    if pcm16 is not None:  # the common case, read straight from the file: an hour takes about a second
        return _garbled_pcm16_seconds(path, *pcm16)
    longest = run = 0.0
    rate = block = 0
    with _open(path) as container:
        stream = _audio_stream(container)
        resampler = None
        pieces: list[np.ndarray] = []
        buffered = 0
        for frame in _decoded_frames(container, stream):
            if resampler is None:
                # The first channel only (a mix would average the noise down), as floats at the file's own rate.
                resampler = av.AudioResampler(format="fltp", layout=frame.layout.name, rate=frame.sample_rate)
                rate = frame.sample_rate
                block = max(2, rate // 10)
            for converted in resampler.resample(frame):
                pieces.append(converted.to_ndarray()[0])
                buffered += pieces[-1].size
            if buffered >= 10 * rate:  # ten seconds at a time, in whole 100 ms blocks
                samples = np.concatenate(pieces)
                whole = samples.size // block * block
                pieces, buffered = [samples[whole:]], samples.size - whole
                longest, run = _longest_garbled_run(samples[:whole].reshape(-1, block), rate, longest, run)
        if buffered >= block:
            samples = np.concatenate(pieces)
            whole = samples.size // block * block
            longest, run = _longest_garbled_run(samples[:whole].reshape(-1, block), rate, longest, run)
    return longest


def _wav_pcm16_layout(path: Path) -> tuple[int, int, int, int] | None:
    """(data offset, data bytes, channels, rate) of a 16-bit PCM wav, else None (other sample formats decode)."""
    size = path.stat().st_size
    fmt: tuple[int, int, int] | None = None
    with path.open("rb") as fh:
        riff = fh.read(12)
        if riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
            return None
        while len(header := fh.read(8)) == 8:
            chunk_id, chunk_size = header[:4], struct.unpack("<I", header[4:])[0]
            if chunk_id == b"fmt ":
                body = fh.read(chunk_size)
                if len(body) < 16:
                    return None
                tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
                fmt = (tag, channels, rate) if bits == 16 else None
                fh.seek(chunk_size & 1, 1)
                continue
            if chunk_id == b"data":
                if fmt is None or fmt[0] not in (1, 0xFFFE) or fmt[1] < 1 or fmt[2] < 1:
                    return None
                length = size - fh.tell() if chunk_size in (0, 0xFFFFFFFF) else min(chunk_size, size - fh.tell())
                return fh.tell(), length, fmt[1], fmt[2]
            fh.seek(chunk_size + (chunk_size & 1), 1)
    return None


def _garbled_pcm16_seconds(path: Path, offset: int, length: int, channels: int, rate: int) -> float:
    longest = run = 0.0
    block = max(2, rate // 10)
    frame_bytes = 2 * channels
    step = block * 100  # ten seconds at a time
    with path.open("rb") as fh:
        fh.seek(offset)
        left = length // frame_bytes
        while left >= block:
            count = min(step, left // block * block)
            raw = np.frombuffer(fh.read(count * frame_bytes), dtype="<i2")
            if raw.size < count * channels:
                break
            first_channel = raw.reshape(count, channels)[:, 0].astype(np.float32) / 32768.0
            longest, run = _longest_garbled_run(first_channel.reshape(-1, block), rate, longest, run)
            left -= count
    return longest


def _longest_garbled_run(blocks: np.ndarray, rate: int, longest: float, run: float) -> tuple[float, float]:
    """Carry the longest run of garbled 100 ms blocks (and the current one) over the next rows of ``blocks``."""
    centred = blocks - blocks.mean(axis=1, keepdims=True)
    power = np.square(centred).mean(axis=1)
    neighbours = (centred[:, 1:] * centred[:, :-1]).mean(axis=1) / np.maximum(power, 1e-12)
    garbled = (power >= _GARBLED_RMS**2) & (np.abs(neighbours) < _GARBLED_CORRELATION)
    seconds = blocks.shape[1] / rate
    for flag in garbled:
        run = run + seconds if flag else 0.0
        longest = max(longest, run)
    return longest, run


def _is_cut_off(path: Path, container: av.container.InputContainer, declared: float, measured: float) -> bool:
    name = container.format.name
    if name == "wav":
        # FFmpeg trusts the file size over the header, so read the header's own promise.
        return _wav_data_missing(path)
    if name == "mp3" and not _mp3_has_length_header(path):
        return False  # FFmpeg only estimated the length from the bit rate
    if name != "mp3" and name not in _LENGTH_IN_HEADER:
        return False
    return measured < declared - max(0.25, 0.005 * declared)


def _wav_data_missing(path: Path) -> bool:
    size = path.stat().st_size
    with path.open("rb") as fh:
        riff = fh.read(12)
        if riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
            return False
        while header := fh.read(8):
            if len(header) < 8:
                return True
            chunk_id, chunk_size = header[:4], struct.unpack("<I", header[4:])[0]
            if chunk_id == b"data":
                # 0 and 0xFFFFFFFF mean "length unknown" (written while recording), not truncation.
                return chunk_size not in (0, 0xFFFFFFFF) and fh.tell() + chunk_size > size
            fh.seek(chunk_size + (chunk_size & 1), 1)
    return False


def _mp3_has_length_header(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(64 * 1024)
    return any(tag in head for tag in (b"Xing", b"Info", b"VBRI"))


def _check_decodes(container: av.container.InputContainer, stream: av.AudioStream) -> tuple[int, int]:
    """Decode the first seconds to prove the codec data is sound; returns the real rate and channel count."""
    decoded = 0.0
    rate, channels = stream.codec_context.sample_rate, stream.codec_context.channels
    for frame in _decoded_frames(container, stream):
        rate, channels = frame.sample_rate, len(frame.layout.channels)
        decoded += frame.samples / frame.sample_rate
        if decoded >= _PROBE_DECODE_SECONDS:
            break
    if decoded == 0:
        raise InvalidAudio("audio.corrupt")
    return rate, channels


def _decoded_frames(container: av.container.InputContainer, stream: av.AudioStream) -> Iterator[av.AudioFrame]:
    """Frames of one stream; a few damaged packets are skipped (as players do), many mean a corrupt file."""
    bad = 0
    try:
        for packet in container.demux(stream):
            try:
                yield from stream.decode(packet)
            except av.InvalidDataError:
                bad += 1
                if bad > _MAX_BAD_PACKETS:
                    raise InvalidAudio("audio.corrupt") from None
    except av.FFmpegError as exc:
        raise InvalidAudio("audio.corrupt") from exc


def _resampled(path: Path) -> Iterator[np.ndarray]:
    with _open(path) as container:
        stream = _audio_stream(container)
        resampler = None
        shape = None
        for frame in _decoded_frames(container, stream):
            frame_shape = (frame.format.name, frame.layout.name, frame.sample_rate)
            if resampler is None or frame_shape != shape:
                # Rate or layout changed mid-stream (joined recordings): drain and start a fresh resampler.
                if resampler is not None:
                    yield from _arrays(resampler.resample(None))
                resampler, shape = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE), frame_shape
            frame.pts = None  # timing comes from the sample count; gaps in timestamps must not add silence
            yield from _arrays(resampler.resample(frame))
        if resampler is not None:
            yield from _arrays(resampler.resample(None))


def _arrays(frames: list[av.AudioFrame]) -> Iterator[np.ndarray]:
    for frame in frames:
        # Lossy codecs overshoot full scale a little on loud speech; keep the [-1, 1] promise.
        yield np.clip(frame.to_ndarray().reshape(-1).astype(np.float32, copy=False), -1.0, 1.0)


def _quiet_cut(chunk: np.ndarray) -> int:
    window = min(5 * SAMPLE_RATE, len(chunk) // 10) // _FRAME
    if window < 2:
        return len(chunk)
    tail = chunk[len(chunk) - window * _FRAME :].reshape(window, _FRAME)
    quietest = int(np.argmin(np.square(tail).mean(axis=1)))
    return len(chunk) - (window - quietest) * _FRAME + _FRAME // 2


def _too_long(seconds: float, settings: Settings) -> InvalidAudio:
    return InvalidAudio(
        "audio.too_long", minutes=round(seconds / 60, 1), limit_minutes=round(settings.max_audio_seconds / 60, 1)
    )


def _megabytes(size: int) -> float:
    return round(size / (1024 * 1024), 1)
