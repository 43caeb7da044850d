"""Peak RSS of a fresh process that has loaded and used all three models (speech, embeddings, LLM)."""

from __future__ import annotations

import json
import subprocess
import sys

from assistant.bench.results import Figure, PartResult
from assistant.settings import Settings

# Runs in a child process so the figure is the serving process's own, not this benchmark's accumulated peak.
CHILD = r"""
import json, resource, time
from assistant.settings import get_settings
from assistant.bench.measure import peak_rss_mb
from assistant.speech import clip
from assistant.speech import make_transcriber
from assistant.llm import make_chat_model
from prompts import ChatMessage
from vectorstore.embeddings import make_embedder
s = get_settings()
base = peak_rss_mb()
make_transcriber(s).transcribe(clip(3.0))
make_embedder(s).embed_queries(["insulin ved vagtskifte"])
list(make_chat_model(s).stream([ChatMessage(role="user", content="Sig hej.")], max_tokens=4))
print(json.dumps({"baseline_mb": base, "peak_mb": peak_rss_mb()}))
"""


def run(settings: Settings, quick: bool, repetitions: int) -> PartResult:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True,
                          env=None, timeout=900)
    numbers = json.loads(done.stdout.strip().splitlines()[-1])
    peak, base = numbers["peak_mb"], numbers["baseline_mb"]
    return PartResult(part="memory", figures=[
        Figure(part="memory", name="peak RSS, all three models loaded and used", value=peak, unit="MB",
               reference=base, reference_label="MB after imports only", ratio=round(peak / base, 2),
               target="≤ 4096 MB", met=peak <= 4096),
    ], details=numbers | {"how": "fresh python process: transcribe 3 s, embed a query, generate 4 tokens; ru_maxrss"})
