"""The benchmark result shape, the printed table and the JSON file."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import psutil
from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table


class Figure(BaseModel):
    """One measured figure beside its reference (as a ratio) and its target (met or not)."""

    part: str
    name: str
    value: float | None
    unit: str
    reference: float | None = None
    reference_label: str = ""
    ratio: float | None = Field(None, description="value / reference, or reference / value for times (higher is better).")
    target: str = ""
    met: bool | None = None


class PartResult(BaseModel):
    """One benchmark part: its figures and the settings and sizes that produced them."""

    part: str
    figures: list[Figure] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class BenchResult(BaseModel):
    command: str
    quick: bool
    machine: dict[str, Any]
    started_at: str
    seconds: float = 0.0
    parts: list[PartResult] = Field(default_factory=list)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
    }


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def table(result: BenchResult) -> Table:
    out = Table(title="debrief bench" + (" (quick)" if result.quick else ""))
    for column in ("part", "figure", "value", "reference", "ratio", "target", "met"):
        out.add_column(column)
    for part in result.parts:
        if part.error:
            out.add_row(part.part, "error", part.error[:60], "", "", "", "")
        for f in part.figures:
            met = "–" if f.met is None else ("met" if f.met else "not met")
            ref = f"{_fmt(f.reference)} {f.reference_label}".strip() if f.reference is not None else f.reference_label
            ratio = f"{f.ratio:.2f}×" if f.ratio is not None else "–"
            out.add_row(part.part, f.name, f"{_fmt(f.value)} {f.unit}", ref, ratio, f.target, met)
    return out


def markdown(result: BenchResult) -> str:
    """The results as a Markdown table for docs/benchmarks.md."""
    lines = ["| part | figure | value | reference | ratio | target | met |", "|---|---|---|---|---|---|---|"]
    for part in result.parts:
        if part.error:
            lines.append(f"| {part.part} | error | {part.error[:80]} | | | | |")
        for f in part.figures:
            met = "–" if f.met is None else ("met" if f.met else "**not met**")
            ref = f"{_fmt(f.reference)} {f.reference_label}".strip() if f.reference is not None else f.reference_label
            ratio = f"{f.ratio:.2f}×" if f.ratio is not None else "–"
            lines.append(f"| {part.part} | {f.name} | {_fmt(f.value)} {f.unit} | {ref} | {ratio} | {f.target} | {met} |")
    return "\n".join(lines)


def print_and_write(result: BenchResult, output: Path | None, console: Console | None = None) -> None:
    (console or Console(width=200)).print(table(result))
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False), "utf-8")
