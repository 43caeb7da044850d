"""Index insertion rate and query latency (with and without metadata filters) as the index grows."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from assistant.bench.measure import percentile
from assistant.bench.results import Figure, PartResult
from assistant.bench.synthetic import PooledEmbedder, points, pool_texts
from assistant.settings import Settings
from vectorstore.embeddings import make_embedder
from vectorstore.index import LearningIndex
from vectorstore.schema import SearchFilters

QUERIES = ["forveksling af insulin ved vagtskifte", "fald om natten hos ældre borger", "manglende overlevering ved udskrivelse",
           "forsinket behandling af sepsis", "fejl i medicinkortet efter indlæggelse"]
FILTER = SearchFilters(sectors={"hospital"}, visibility={"staff"})


def _latencies(index: LearningIndex, filters: SearchFilters | None, rounds: int, cases: bool = False) -> list[float]:
    """Milliseconds per query: point search, or (``cases``) the points and similar cases the chat and API show."""
    ask = index.similar_points_and_cases if cases else index.search
    out = []
    for _ in range(rounds):
        for q in QUERIES:
            started = time.perf_counter()
            ask(q, filters=filters, k=5)
            out.append((time.perf_counter() - started) * 1000)
    return out


def run(settings: Settings, quick: bool, repetitions: int) -> PartResult:
    sizes = [100] if quick else [1_000, 10_000, 100_000]
    pool_size = 50 if quick else 500
    real = make_embedder(settings)
    started = time.perf_counter()
    pool = pool_texts(pool_size)
    embedder = PooledEmbedder(real, pool)
    embed_rate = pool_size / (time.perf_counter() - started)
    rounds = max(2, repetitions * 4)
    curve, figures = [], []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            index = LearningIndex(settings.model_copy(update={"data_dir": Path(tmp)}), embedder=embedder)
            batch = points(size, pool_size)
            started = time.perf_counter()
            index.upsert(batch)
            rate = size / (time.perf_counter() - started)
            _latencies(index, None, 1)  # warm-up
            plain = _latencies(index, None, rounds)
            filtered = _latencies(index, FILTER, rounds)
            cases = _latencies(index, FILTER, rounds, cases=True)
            row = {"points": size, "insert_per_s": round(rate), "p50_ms": round(percentile(plain, 50), 1),
                   "p95_ms": round(percentile(plain, 95), 1), "p50_filtered_ms": round(percentile(filtered, 50), 1),
                   "p95_filtered_ms": round(percentile(filtered, 95), 1),
                   "p50_cases_filtered_ms": round(percentile(cases, 50), 1),
                   "p95_cases_filtered_ms": round(percentile(cases, 95), 1), "queries": len(plain)}
            curve.append(row)
            del index
    first, last = curve[0], curve[-1]
    figures.append(Figure(part="index", name=f"insertion rate at {last['points']:,}", value=last["insert_per_s"],
                          unit="points/s", reference=embed_rate, reference_label="passages/s embedded (e5)",
                          ratio=round(last["insert_per_s"] / embed_rate, 2)))
    for key, label in (("p95_ms", "p95 query"), ("p95_filtered_ms", "p95 query, filtered"),
                       ("p95_cases_filtered_ms", "p95 similar points and cases, filtered")):
        figures.append(Figure(part="index", name=f"{label} at {last['points']:,}", value=last[key], unit="ms",
                              reference=first[key], reference_label=f"ms at {first['points']:,}",
                              ratio=round(first[key] / last[key], 2) if last[key] else None,
                              target="≤ 100 ms at 100k", met=last[key] <= 100 if last["points"] >= 100_000 else None))
    return PartResult(part="index", figures=figures, details={
        "growth": curve, "pool_size": pool_size, "embedding_pool_per_s": round(embed_rate, 1),
        "filter": FILTER.model_dump(mode="json"), "k": 5,
        "how": "a pool of distinct texts is embedded once; each point reuses its pool vector plus seeded noise; "
               "queries are embedded for real, so latency includes e5 query embedding",
    })
