"""``debrief bench``: speed and memory of each part, as ratios against a reference in the same run."""

from __future__ import annotations

from assistant.bench.measure import RssSampler, percentile
from assistant.bench.results import BenchResult, print_and_write
from assistant.bench.run import run_bench
from assistant.bench.synthetic import PooledEmbedder, points

__all__ = ["BenchResult", "PooledEmbedder", "RssSampler", "percentile", "points", "print_and_write", "run_bench"]
