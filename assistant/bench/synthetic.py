"""Synthetic learning points in the real index schema, and an embedder that reuses precomputed vectors.

Embedding 100k passages with e5-small on two cores takes over half an hour, so the large index runs embed a pool
of distinct texts once and give every point its pool vector plus a little seeded noise (re-normalised): the
vectors are distinct, as the HNSW index needs, and insertion and search time only Chroma, not the embedder.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vectorstore.schema import IndexedPoint

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "learning_points_da.jsonl"
SECTORS = ["hospital", "municipality", "general_practice"]


def _records(path: Path = DATA) -> list[dict]:
    if not path.exists():  # installed without tests/: a minimal built-in seed
        return [{"title": "Forveksling af insulin ved vagtskifte", "what_happened": "Pennene lå i samme skuffe.",
                 "category": "medicin", "unit": "Afsnit"}]
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def pool_texts(n: int, seed: int = 1) -> list[str]:
    """``n`` distinct Danish texts made by crossing titles and event descriptions of the shipped points."""
    records = _records()
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        a, b, c = rng.choice(records), rng.choice(records), rng.choice(records)
        texts.append(f"{a['title']}\n{b['what_happened']}\nHandlinger: {c['title'].lower()} (variant {i})")
    return texts


def points(n: int, pool_size: int, seed: int = 2) -> list[IndexedPoint]:
    """``n`` points whose text is ``<pool text> #<i>`` and whose metadata is spread over the real values."""
    records = _records()
    texts = pool_texts(pool_size)
    rng = random.Random(seed)
    categories = sorted({r["category"] for r in records})
    start = dt.date(2023, 1, 1)
    out = []
    for i in range(n):
        out.append(IndexedPoint(
            learning_point_id=f"syn-{i:06d}", case_id=f"case-{i // 3:06d}",
            text=f"{texts[i % pool_size]} #{i}", title=f"Syntetisk læringspunkt {i}",
            sector=SECTORS[i % 3], unit=f"Enhed {i % 40}", category=rng.choice(categories),
            severity=rng.choice(["ingen", "mild", "moderat", "alvorlig"]), safety_ii=rng.random() < 0.2,
            event_date=start + dt.timedelta(days=rng.randrange(900)), visibility=rng.choice(["staff", "public"]),
        ))
    return out


class PooledEmbedder:
    """Passages: the precomputed vector of their pool text plus seeded noise. Queries: the real embedder, except
    the index's case texts (its points' texts joined), which reuse their first point's vector, so that a bulk
    insert still times Chroma rather than e5."""

    def __init__(self, real, pool: list[str], noise: float = 0.02) -> None:
        self.real = real
        self.noise = noise
        self.vectors = np.asarray(real.embed_passages(pool), dtype=np.float32)
        self.index = {text: i for i, text in enumerate(pool)}
        self.dimension = self.vectors.shape[1]
        self.model_id = getattr(real, "model_id", "pooled")

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        pooled = [text.split("\n\n", 1)[0].rpartition(" #")[0] in self.index for text in texts]
        if not any(pooled):
            return self.real.embed_queries(texts)
        real = iter(self.real.embed_queries([t for t, p in zip(texts, pooled) if not p]) if not all(pooled) else [])
        cases = iter(self.embed_passages([t.split("\n\n", 1)[0] for t, p in zip(texts, pooled) if p]))
        return np.stack([next(cases) if p else next(real) for p in pooled])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            base, _, number = text.rpartition(" #")
            rng = np.random.default_rng(int(number) if number.isdigit() else 0)
            row = self.vectors[self.index[base]] + rng.normal(0, self.noise, self.dimension).astype(np.float32)
            rows.append(row / np.linalg.norm(row))
        return np.stack(rows)
