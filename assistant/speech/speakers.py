"""Speaker turns: which segments the same voice spoke, as "1", "2", … in order of first appearance, never a name.

The embedded method (``mfcc``) needs only numpy and scikit-learn, offline: each segment becomes a voice
print (its mean MFCCs and its median pitch), and agglomerative clustering with a distance threshold finds how many
voices there are, so one voice stays one speaker. Chosen by ``settings.speaker_turns``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from assistant.i18n import translate
from assistant.models import Segment
from assistant.settings import Settings

SAMPLE_RATE = 16_000
FRAME = 400  # 25 ms windows
HOP = 160  # every 10 ms
MEL_BANDS = 40
CEPSTRA = 20  # c1..c19 are kept; c0 is loudness, which says more about the microphone than the voice
# Segments shorter than this give a voice print too noisy to cluster; they take the speaker of their neighbour.
MIN_SECONDS = 0.5
# A voice print is the mean MFCCs divided by CEPSTRUM_SCALE beside PITCH_WEIGHT x log2(median pitch): a third of an
# octave apart counts about as much as a clearly different timbre. Groups of prints further apart than
# DISTANCE_THRESHOLD (Euclidean, average linkage) are different speakers. All three were chosen on generated
# espeak-ng conversations, where 0.8-1.0 all scored the same (docs/evaluation.md, scripts/measure_speaker_turns.py).
CEPSTRUM_SCALE = 10.0
PITCH_WEIGHT = 3.0
DISTANCE_THRESHOLD = 0.9


@runtime_checkable
class SpeakerTurns(Protocol):
    """Labels segments by voice."""

    def assign(self, audio_16k: np.ndarray, segments: list[Segment]) -> list[Segment]:
        """The segments with ``speaker`` "1", "2", … (16 kHz mono samples; segment times in seconds)."""
        ...


class NoSpeakerTurns:
    """Leaves segments as they are (``speaker`` stays unset): the setting ``off``."""

    def assign(self, audio_16k: np.ndarray, segments: list[Segment]) -> list[Segment]:
        """The segments unchanged."""
        return segments


def _mel_filterbank(bands: int = MEL_BANDS, n_fft: int = 512, rate: int = SAMPLE_RATE) -> np.ndarray:
    def mel(hz):
        return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)

    def hz(m):
        return 700.0 * (10 ** (np.asarray(m) / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(60.0), mel(rate / 2 - 400.0), bands + 2))
    bins = np.fft.rfftfreq(n_fft, 1.0 / rate)
    bank = np.zeros((bands, len(bins)))
    for b in range(bands):
        low, centre, high = edges[b : b + 3]
        rising = (bins - low) / (centre - low)
        falling = (high - bins) / (high - centre)
        bank[b] = np.clip(np.minimum(rising, falling), 0.0, None)
    return bank


_BANK = _mel_filterbank()
# The orthonormal DCT-II as a matrix (what scipy.fft.dct(norm="ortho") computes), rows c1..c19: numpy alone does it.
_DCT = np.sqrt(2.0 / MEL_BANDS) * np.cos(np.pi / MEL_BANDS * (np.arange(MEL_BANDS) + 0.5)[None, :]
                                         * np.arange(1, CEPSTRA)[:, None])


def mfcc_frames(samples: np.ndarray) -> np.ndarray:
    """(frames, CEPSTRA - 1) MFCCs of 16 kHz samples: 25 ms Hamming windows every 10 ms, log-mel, DCT, c0 dropped."""
    samples = np.asarray(samples, dtype=np.float64)
    if len(samples) < FRAME:
        return np.zeros((0, CEPSTRA - 1))
    emphasised = np.append(samples[0], samples[1:] - 0.97 * samples[:-1])
    count = 1 + (len(emphasised) - FRAME) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(emphasised, FRAME)[::HOP][:count] * np.hamming(FRAME)
    power = np.abs(np.fft.rfft(frames, n=512)) ** 2
    energy = power.sum(axis=1)
    # Only frames with speech in them describe the voice; pauses inside a segment would pull prints together.
    voiced = energy > max(energy.max(), 1e-12) * 1e-3
    logmel = np.log(power[voiced] @ _BANK.T + 1e-10)
    return logmel @ _DCT.T


def median_pitch(samples: np.ndarray) -> float | None:
    """The median fundamental frequency (Hz) of the voiced 40 ms frames, by autocorrelation; None when unvoiced."""
    samples = np.asarray(samples, dtype=np.float64)
    width = 640
    if len(samples) < width:
        return None
    frames = np.lib.stride_tricks.sliding_window_view(samples, width)[::HOP]
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = (frames**2).sum(axis=1)
    frames = frames[energy > max(energy.max(), 1e-12) * 1e-2]
    window = np.hanning(width)
    auto = np.fft.irfft(np.abs(np.fft.rfft(frames * window, n=2 * width)) ** 2)[:, :width]
    auto = auto / np.maximum(auto[:, :1], 1e-12)
    # Divided by the window's own autocorrelation (Boersma's method), else the taper hides low voices' repeats.
    own = np.fft.irfft(np.abs(np.fft.rfft(window, n=2 * width)) ** 2)[:width]
    auto = auto / np.maximum(own / own[0], 1e-3)
    low, high = SAMPLE_RATE // 400, SAMPLE_RATE // 60  # voices between 60 and 400 Hz
    lags = low + auto[:, low:high].argmax(axis=1)
    strength = auto[np.arange(len(lags)), lags]
    voiced = strength > 0.5  # a clear repeat: voiced speech, not noise or a fricative
    if voiced.sum() < 5:
        return None
    return float(SAMPLE_RATE / np.median(lags[voiced]))


def voice_print(samples: np.ndarray) -> np.ndarray | None:
    """One segment's voice print: its mean MFCCs (timbre) beside its median pitch in octaves (None when too short
    or unvoiced)."""
    if len(samples) < MIN_SECONDS * SAMPLE_RATE:
        return None
    cepstra = mfcc_frames(samples)
    pitch = median_pitch(samples)
    if len(cepstra) < 10 or pitch is None:  # under 0.1 s with speech in it
        return None
    return np.concatenate([cepstra.mean(axis=0) / CEPSTRUM_SCALE, [PITCH_WEIGHT * np.log2(pitch)]])


def cluster_prints(prints: np.ndarray, threshold: float = DISTANCE_THRESHOLD) -> np.ndarray:
    """Cluster numbers per print: average-linkage agglomerative clustering on Euclidean distance, stopped at
    ``threshold``, so the number of speakers is found rather than given (and one voice stays one cluster)."""
    if len(prints) < 2:
        return np.zeros(len(prints), dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold, linkage="average")
    return model.fit_predict(prints)


class MfccSpeakerTurns:
    """Speaker turns from MFCC voice prints and agglomerative clustering (numpy and scikit-learn; offline)."""

    def __init__(self, threshold: float = DISTANCE_THRESHOLD) -> None:
        self.threshold = threshold

    def assign(self, audio_16k: np.ndarray, segments: list[Segment]) -> list[Segment]:
        """The segments with ``speaker`` "1", "2", … numbered by first appearance."""
        if not segments:
            return segments
        prints, owners = [], []
        for position, segment in enumerate(segments):
            piece = audio_16k[int(segment.start * SAMPLE_RATE) : int(segment.end * SAMPLE_RATE)]
            found = voice_print(piece)
            if found is not None:
                prints.append(found)
                owners.append(position)
        clusters: list[int | None] = [None] * len(segments)
        if prints:
            for position, cluster in zip(owners, cluster_prints(np.array(prints), self.threshold), strict=True):
                clusters[position] = int(cluster)
        return _numbered(segments, _fill_gaps(clusters))


def _fill_gaps(clusters: list[int | None]) -> list[int]:
    """Segments without a voice print take the previous segment's cluster (the first known one at the start)."""
    known = [c for c in clusters if c is not None]
    current = known[0] if known else 0
    filled = []
    for cluster in clusters:
        current = cluster if cluster is not None else current
        filled.append(current)
    return filled


def _numbered(segments: list[Segment], clusters: list[int]) -> list[Segment]:
    names: dict[int, str] = {}
    for cluster in clusters:
        names.setdefault(cluster, str(len(names) + 1))
    return [s.model_copy(update={"speaker": names[c]}) for s, c in zip(segments, clusters, strict=True)]


def make_speaker_turns(settings: Settings) -> SpeakerTurns:
    """The speaker-turn method the settings ask for (``off`` labels nothing)."""
    if settings.speaker_turns == "mfcc":
        return MfccSpeakerTurns()
    return NoSpeakerTurns()


def speaker_label(speaker: str | None, language: str = "da") -> str:
    """How a speaker is shown: "Taler 2" ("Speaker 2" in English) for the number turns give; empty for none."""
    if not speaker:
        return ""
    return translate("case.speaker", language, number=speaker) if speaker.isdigit() else speaker
