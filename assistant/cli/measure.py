"""`debrief bench` (speed, memory) and `debrief eval` (quality): measuring the embedded models."""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from assistant.settings import get_settings

# The shipped sets `debrief eval` scores by default. Its --help names them relative to the repository
# (show_default), so the help, and docs/cli.md made from it, read the same on every machine.
TESTS_DATA = Path(__file__).resolve().parents[2] / "tests" / "data"


def _split(value: str | None) -> list[str] | None:
    """A comma-separated option as a list (None when not given, so the library picks its default)."""
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _keep_part(output: Path, measured: dict, part) -> None:
    """Write the results so far after each part, so a long run that is stopped keeps what it has measured."""
    measured["parts"].append(part.model_dump(mode="json"))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(measured, indent=2, ensure_ascii=False), "utf-8")


def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Tiny sizes and 1 repetition: checks the output.")] = False,
    only: Annotated[str | None, typer.Option(help="Comma-separated parts, by default all of transcription, "
                                                  "transcription_server, drafting, end_to_end, index, memory, "
                                                  "chat; and load (the running app under concurrent uploads and "
                                                  "questions, on request only).")] = None,
    output: Annotated[Path, typer.Option(help="JSON results file.")] = Path("bench-results.json"),
    repetitions: Annotated[int | None, typer.Option(help="Timed runs per figure (default 1 quick, 3 full).")] = None,
) -> None:
    """Measure speed and memory of the embedded models, each figure beside a reference and its target."""
    from assistant.bench import BenchResult, print_and_write, run_bench

    command = "debrief " + " ".join(sys.argv[1:])
    try:
        result: BenchResult = run_bench(get_settings(), quick, _split(only), repetitions, command,
                                        on_part=partial(_keep_part, output, {"parts": []}))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    print_and_write(result, output)


def evaluate(
    parts: Annotated[str, typer.Option(help="Comma-separated: asr,pseudonymisation,drafting,retrieval.")] =
        "asr,pseudonymisation,drafting,retrieval",
    asr_dir: Annotated[Path, typer.Option(help="Folder of audio + reference .txt (or .txt only: "
                                               "spoken with espeak-ng).", show_default="tests/data/asr")] = (
        TESTS_DATA / "asr"),
    asr_limit: Annotated[int | None, typer.Option(help="Only the first N ASR files.")] = None,
    pseudonymisation: Annotated[Path, typer.Option(help="JSONL of annotated sentences.",
                                                   show_default="tests/data/pseudonymisation_da.jsonl")] =
        TESTS_DATA / "pseudonymisation_da.jsonl",
    drafting: Annotated[Path, typer.Option(help="JSONL of case texts with ISBAR line labels and reference points.",
                                           show_default="tests/data/drafting_real_da.jsonl")] =
        TESTS_DATA / "drafting_real_da.jsonl",
    drafting_limit: Annotated[int | None, typer.Option(help="Only the first N drafting records.")] = None,
    drafting_methods: Annotated[str, typer.Option(help="Comma-separated drafting methods to compare: small "
                                                       "(the LLM chooses and writes short fields), rich (it "
                                                       "writes whole drafts).")] = "small,rich",
    rich_limit: Annotated[int | None, typer.Option(help="The rich method (minutes a record with the bundled "
                                                        "model) on only the first N records.")] = 8,
    skip_llm: Annotated[bool, typer.Option("--skip-llm", help="No real LLM: drafting quality is not scored; "
                                                              "prompts are still scanned for CPR leaks.")] = False,
    points: Annotated[Path, typer.Option(help="JSONL of learning points.",
                                         show_default="tests/data/learning_points_da.jsonl")] = (
        TESTS_DATA / "learning_points_da.jsonl"),
    queries: Annotated[Path, typer.Option(help="JSONL of queries with relevant ids.",
                                          show_default="tests/data/retrieval_da.jsonl")] = (
        TESTS_DATA / "retrieval_da.jsonl"),
    retrieval_set: Annotated[Path, typer.Option(help="JSONL of real cases grouped by failure mode, with three "
                                                     "queries each and off-topic questions (similar cases, "
                                                     "leave-one-out).",
                                                show_default="tests/data/retrieval_real_da.jsonl")] = (
        TESTS_DATA / "retrieval_real_da.jsonl"),
    output: Annotated[Path, typer.Option(help="JSON results file.")] = Path("eval-results.json"),
) -> None:
    """Quality on labelled data sets: WER/CER, pseudonymisation P/R and CPR leaks, draft coverage, retrieval."""
    from assistant.evaluation import print_and_write, run_eval

    result = run_eval(get_settings(), _split(parts) or [], asr_dir=asr_dir, asr_limit=asr_limit,
                      pseudonymisation=pseudonymisation, drafting=drafting, drafting_limit=drafting_limit,
                      drafting_methods=_split(drafting_methods), rich_limit=rich_limit,
                      skip_llm=skip_llm, points=points, queries=queries, retrieval_set=retrieval_set)
    print_and_write(result, output)
