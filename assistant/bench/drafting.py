"""Drafting speed on real case texts (small-model path beside the rich one), two drafts at once against one after
the other, and 10 minutes of audio → draft end to end.

The texts are records of ``tests/data/drafting_real_da.jsonl``: short formal and staff notes for the 100-word
figure, spoken debriefs joined to 1,500 words for the long one.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assistant.bench.measure import RssSampler
from assistant.bench.results import Figure, PartResult
from assistant.drafting import draft_case_with_report
from assistant.errors import DraftInvalid
from assistant.llm import make_chat_model
from assistant.models import CaseContext, DraftMethod, Segment
from assistant.privacy import Pseudonymiser
from assistant.settings import Settings
from assistant.speech import clip, make_transcriber

REAL_TEXTS = Path(__file__).resolve().parents[2] / "tests" / "data" / "drafting_real_da.jsonl"


def _records() -> list[dict]:
    return [json.loads(line) for line in REAL_TEXTS.read_text("utf-8").splitlines() if line.strip()]


def _words(record: dict) -> int:
    return sum(len(s["text"].split()) for s in record["segments"])


def short_notes(count: int) -> list[list[Segment]]:
    """The ``count`` Danish written records nearest 100 words."""
    written = [r for r in _records() if r["language"] == "da" and r["style"] in ("formal", "staff")]
    nearest = sorted(written, key=lambda r: abs(_words(r) - 100))[:count]
    return [[Segment.model_validate(s) for s in r["segments"]] for r in nearest]


def long_transcript(words: int) -> list[Segment]:
    """Spoken Danish debriefs joined, in order, until ``words`` words: one long talk as a recogniser gives it."""
    spoken = [r for r in _records() if r["language"] == "da" and r["style"] == "spoken"]
    out: list[Segment] = []
    offset = 0.0
    for record in sorted(spoken, key=_words, reverse=True):
        for s in record["segments"]:
            if sum(len(x.text.split()) for x in out) >= words:
                return out
            seg = Segment.model_validate(s)
            out.append(seg.model_copy(update={"index": len(out), "start": seg.start + offset, "end": seg.end + offset}))
        offset = out[-1].end
    return out


def _time_drafts(cases: list[list[Segment]], settings: Settings, method: DraftMethod) -> tuple[list[float], int]:
    chat = make_chat_model(settings)
    times, calls = [], 0
    for segments in cases:
        started = time.perf_counter()
        _, trace = draft_case_with_report(segments, CaseContext(), chat, settings, method=method)
        times.append(time.perf_counter() - started)
        calls += trace.calls
    return times, calls


def draft_in_a_process(path: str) -> None:
    """Entry for the concurrency figure: draft the segments in ``path`` once, in a process of its own."""
    segments = [Segment.model_validate(s) for s in json.loads(Path(path).read_text("utf-8"))]
    settings = Settings()
    draft_case_with_report(segments, CaseContext(), make_chat_model(settings), settings, method=DraftMethod.small)


def _processes(path: Path, count: int, at_once: bool, env: dict[str, str], timeout: float) -> float | None:
    """Seconds for ``count`` drafting processes, all at once or one after the other; None past ``timeout``."""
    command = [sys.executable, "-c", f"from assistant.bench.drafting import draft_in_a_process as d; d({str(path)!r})"]
    started = time.perf_counter()
    try:
        if at_once:
            running = [subprocess.Popen(command, env=env) for _ in range(count)]
            for p in running:
                p.wait(timeout=max(1.0, timeout - (time.perf_counter() - started)))
        else:
            for _ in range(count):
                subprocess.run(command, env=env, check=True, timeout=max(1.0, timeout - (time.perf_counter() - started)))
    except subprocess.TimeoutExpired:
        for p in running if at_once else []:
            p.kill()
        return None
    return time.perf_counter() - started


def concurrency(settings: Settings, quick: bool) -> list[Figure]:
    """Two drafting processes at once against one after the other (throughput), with the machine-wide compute
    slot; and, as the reference that shows why it exists, at once with a slot each (both take every core)."""
    segments = short_notes(1)[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "segments.json"
        path.write_text(json.dumps([s.model_dump() for s in segments]), "utf-8")
        env = {**os.environ, "DEBRIEF_COMPUTE_DIR": str(Path(tmp) / "compute"),
               "DEBRIEF_CPU_THREADS": str(settings.cpu_threads), "DEBRIEF_CACHE_DIR": str(settings.cache_dir)}
        sequential = _processes(path, 2, False, env, timeout=1800)
        together = _processes(path, 2, True, env, timeout=1800)
        figures = [Figure(part="drafting", name="2 drafts at once, shared compute slot (throughput vs one after "
                          "the other)", value=round(together, 1) if together else None, unit="s",
                          reference=round(sequential, 1), reference_label="s one after the other",
                          ratio=round(sequential / together, 2) if together else None, target="≥ 0.9×",
                          met=(sequential / together >= 0.9) if together and not quick else None)]
        if not quick:
            free = _processes(path, 2, True, env | {"DEBRIEF_COMPUTE_SLOTS": "2"}, timeout=3 * sequential)
            figures.append(Figure(part="drafting", name="2 drafts at once, a slot each (the old behaviour)",
                                  value=round(free, 1) if free else None, unit="s", reference=round(sequential, 1),
                                  reference_label="s one after the other",
                                  ratio=round(sequential / free, 2) if free else None,
                                  target="reference only" if free else
                                  f"reference only (stopped: not done in {3 * sequential:.0f} s)"))
    return figures


def run(settings: Settings, quick: bool, repetitions: int) -> PartResult:
    notes = short_notes(1 if quick else 3)
    long_words = 200 if quick else 1_500
    transcript = long_transcript(long_words)
    with RssSampler() as rss:
        short_times, short_calls = _time_drafts(notes, settings, DraftMethod.small)
        long_times, long_calls = _time_drafts([transcript] * max(1, repetitions if not quick else 1), settings,
                                              DraftMethod.small)
        # The old design, minutes a draft: the full run only.
        rich_times = [] if quick else _time_drafts(
            notes[:1], settings.model_copy(update={"draft_seconds": 1800.0, "llm_call_seconds": 1800.0}),
            DraftMethod.rich)[0]
    short, long_ = statistics.median(short_times), statistics.median(long_times)
    rich = rich_times[0] if rich_times else None
    figures = [
        Figure(part="drafting", name="100-word notes → draft, small-model path (median)", value=round(short, 1),
               unit="s", reference=round(rich, 1) if rich else None, reference_label="s, rich path (the old design)",
               ratio=round(rich / short, 2) if rich else None, target="≤ 30 s", met=short <= 30 if not quick else None),
        Figure(part="drafting", name=f"{long_words}-word spoken transcript → draft, small-model path",
               value=round(long_, 1), unit="s", reference=round(long_words / 2.5, 1),
               reference_label="s of speech it covers", ratio=round(long_words / 2.5 / long_, 2),
               target="≤ 120 s (1,500 words)", met=long_ <= 120 if not quick else None),
        *([] if quick else concurrency(settings, quick)),  # four drafting processes: the full run only
    ]
    return PartResult(part="drafting", figures=figures, details={
        "short_times_s": [round(t, 1) for t in short_times], "long_times_s": [round(t, 1) for t in long_times],
        "rich_times_s": [round(t, 1) for t in rich_times], "short_calls": short_calls, "long_calls": long_calls,
        "long_words": sum(len(s.text.split()) for s in transcript), "peak_rss_mb": rss.peak_mb,
        "first_run_includes_model_load": True, "texts": str(REAL_TEXTS.name)})


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
    try:
        calls, refused = draft_case_with_report(segments, CaseContext(), chat, settings)[1].calls, None
    except DraftInvalid as error:  # a short generated clip can transcribe to too little to draft: still timed
        calls, refused = 0, error.key
    total = time.perf_counter() - started
    return PartResult(part="end to end", figures=[
        Figure(part="end to end", name=f"{seconds:.0f} s audio → draft", value=round(total, 1), unit="s",
               reference=seconds, reference_label="s of audio", ratio=round(seconds / total, 2),
               target="≤ 180 s for 600 s audio", met=total <= 180 if not quick else None),
    ], details={"transcribe_s": round(after_asr - started, 1), "pseudonymise_s": round(after_pseudo - after_asr, 1),
                "draft_s": round(total - (after_pseudo - started), 1), "segments": len(segments),
                "words": sum(len(s.text.split()) for s in segments), "calls": calls, "draft_refused": refused,
                "repetitions": 1, "note": "one run: a repetition costs minutes on two cores"})
