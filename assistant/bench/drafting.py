"""Transcript → validated draft with the embedded LLM, and 10 minutes of audio → draft end to end."""

from __future__ import annotations

import time

from assistant.bench.measure import RssSampler
from assistant.bench.results import Figure, PartResult
from assistant.drafting import draft_case_with_report
from assistant.llm import make_chat_model
from assistant.models import CaseContext, Segment
from assistant.privacy import Pseudonymiser
from assistant.settings import Settings
from assistant.speech import clip, make_transcriber, words_of_debrief


def segments_of(text: str, words_per_segment: int = 25, words_per_second: float = 2.5) -> list[Segment]:
    """Timed segments as a transcriber would return them for ``text``."""
    words = text.split()
    out = []
    for i, start in enumerate(range(0, len(words), words_per_segment)):
        chunk = words[start : start + words_per_segment]
        out.append(Segment(index=i, start=start / words_per_second,
                           end=(start + len(chunk)) / words_per_second, text=" ".join(chunk)))
    return out


def run(settings: Settings, quick: bool, repetitions: int) -> PartResult:
    n_words = 40 if quick else 1_500
    segments = segments_of(words_of_debrief(n_words))
    chat = make_chat_model(settings)
    times, reports = [], []
    with RssSampler() as rss:
        for _ in range(max(1, repetitions)):  # no separate warm-up: each run is minutes; the first loads the model
            started = time.perf_counter()
            _, report = draft_case_with_report(segments, CaseContext(), chat, settings)
            times.append(time.perf_counter() - started)
            reports.append(report)
    median = sorted(times)[len(times) // 2]
    last = reports[-1]
    return PartResult(part="drafting", figures=[
        Figure(part="drafting", name=f"transcript → draft ({n_words} words)", value=round(median, 1), unit="s",
               reference=round(n_words / 2.5, 1), reference_label="s of speech it covers",
               ratio=round(n_words / 2.5 / median, 2), target="≤ 90 s (1,500 words)",
               met=median <= 90 if not quick else None),
    ], details={"times_s": [round(t, 1) for t in times], "tokens_in": last.tokens_in, "tokens_out": last.tokens_out,
                "calls": last.calls, "retries": last.attempts - last.chunks, "chunks": last.chunks,
                "peak_rss_mb": rss.peak_mb, "model": chat.model_id, "first_run_includes_model_load": True})


def run_end_to_end(settings: Settings, quick: bool, repetitions: int) -> PartResult:
    seconds = 6.0 if quick else 600.0
    audio = clip(seconds)
    transcriber, pseudonymiser, chat = make_transcriber(settings), Pseudonymiser(settings), make_chat_model(settings)
    started = time.perf_counter()
    transcript = transcriber.transcribe(audio)
    after_asr = time.perf_counter()
    texts, _ = pseudonymiser.pseudonymise_many([s.text for s in transcript.segments])
    segments = [s.model_copy(update={"text": t}) for s, t in zip(transcript.segments, texts)]
    after_pseudo = time.perf_counter()
    _, report = draft_case_with_report(segments, CaseContext(), chat, settings)
    total = time.perf_counter() - started
    return PartResult(part="end to end", figures=[
        Figure(part="end to end", name=f"{seconds:.0f} s audio → draft", value=round(total, 1), unit="s",
               reference=seconds, reference_label="s of audio", ratio=round(seconds / total, 2),
               target="≤ 180 s for 600 s audio", met=total <= 180 if not quick else None),
    ], details={"transcribe_s": round(after_asr - started, 1), "pseudonymise_s": round(after_pseudo - after_asr, 1),
                "draft_s": round(total - (after_pseudo - started), 1), "segments": len(segments),
                "words": sum(len(s.text.split()) for s in segments), "calls": report.calls,
                "repetitions": 1, "note": "one run: a repetition costs minutes on two cores"})
