"""Real-time factor of our transcriber beside faster-whisper with plain default settings on the same clip."""

from __future__ import annotations

from assistant.bench.measure import RssSampler, timed
from assistant.bench.results import Figure, PartResult
from assistant.settings import Settings
from assistant.speech import clip, make_transcriber


def _rtf(settings: Settings, audio, repetitions: int) -> tuple[float, float, dict]:
    transcriber = make_transcriber(settings)
    with RssSampler() as rss:
        transcriber.transcribe(audio[: 5 * 16_000])  # warm-up: model load and first decode, on 5 s
        median, times, transcript = timed(lambda: transcriber.transcribe(audio), repetitions, warmup=0)
    seconds = len(audio) / 16_000
    return seconds / median, rss.peak_mb, {"times_s": [round(t, 2) for t in times], "words": len(transcript.text.split())}


def run(settings: Settings, quick: bool, repetitions: int) -> PartResult:
    seconds = 8.0 if quick else 300.0
    audio = clip(seconds)
    ours, ours_rss, ours_detail = _rtf(settings, audio, repetitions)
    # Reference: faster-whisper with its defaults (float32, no VAD, beam 5); openai-whisper is not installable
    # offline here (no .pt checkpoint ships), so this is the reference the issue names as the fallback.
    reference_settings = settings.model_copy(update={"whisper_compute_type": "float32", "whisper_vad": False,
                                                     "whisper_beam_size": 5})
    ref, ref_rss, ref_detail = _rtf(reference_settings, audio, repetitions)
    # Greedy decoding, for deployers who trade a little accuracy for speed (DEBRIEF_WHISPER_BEAM_SIZE=1).
    greedy, _, greedy_detail = _rtf(settings.model_copy(update={"whisper_beam_size": 1}), audio, repetitions)
    return PartResult(
        part="transcription",
        figures=[
            Figure(part="transcription", name=f"real-time factor ({seconds:.0f} s clip)", value=round(ours, 2),
                   unit="× real time", reference=round(ref, 2), reference_label="faster-whisper fp32 no-VAD beam 5",
                   ratio=round(ours / ref, 2), target="≥ 10× real time and ≥ 3× reference",
                   met=ours >= 10 and ours / ref >= 3),
            Figure(part="transcription", name="real-time factor, greedy (beam 1)", value=round(greedy, 2),
                   unit="× real time", reference=round(ours, 2), reference_label=f"beam {settings.whisper_beam_size}",
                   ratio=round(greedy / ours, 2), target="≥ 10× real time", met=greedy >= 10),
            Figure(part="transcription", name="peak RSS", value=ours_rss, unit="MB", reference=ref_rss,
                   reference_label="MB (reference)", ratio=round(ref_rss / ours_rss, 2) if ours_rss else None),
        ],
        details={
            "clip_seconds": seconds, "model": settings.whisper_model, "beam_size": settings.whisper_beam_size,
            "compute_type": settings.whisper_compute_type, "vad": settings.whisper_vad,
            "threads": settings.cpu_threads, "ours": ours_detail, "reference": ref_detail, "greedy": greedy_detail,
            "reference_settings": {"compute_type": "float32", "vad": False, "beam_size": 5},
        },
    )
