"""Runs the selected evaluations and prints their tables; the JSON file holds every per-item figure."""

from __future__ import annotations

import datetime as dt
import json
import traceback
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from assistant.settings import Settings


def run_eval(settings: Settings, parts: list[str], *, asr_dir: Path, asr_limit: int | None, pseudonymisation: Path,
             drafting: Path, drafting_limit: int | None, skip_llm: bool, points: Path, queries: Path,
             drafting_methods: list[str] | None = None, rich_limit: int | None = None,
             retrieval_set: Path | None = None) -> dict[str, Any]:
    """One entry per part; a part that fails records its error instead of stopping the others."""
    unknown = set(parts) - {"asr", "pseudonymisation", "drafting", "retrieval"}
    if unknown:
        raise ValueError(f"unknown evaluation part(s): {', '.join(sorted(unknown))}")
    chat = None
    if not skip_llm and ({"drafting", "pseudonymisation"} & set(parts)):
        from assistant.llm import make_chat_model
        chat = make_chat_model(settings)
    result: dict[str, Any] = {"started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "parts": {}}
    for part in parts:
        try:
            if part == "asr":
                from assistant.evaluation.asr import evaluate
                out = evaluate(asr_dir, settings, asr_limit) | {"data": str(asr_dir)}
            elif part == "pseudonymisation":
                from assistant.evaluation.pseudonymisation import evaluate
                out = evaluate(pseudonymisation, settings, chat) | {"data": str(pseudonymisation)}
            elif part == "drafting":
                from assistant.evaluation.drafting import evaluate
                from assistant.models import DraftMethod
                methods = [DraftMethod(m) for m in drafting_methods or ["small"]]
                out = evaluate(drafting, settings, chat, drafting_limit, methods, rich_limit) | {"data": str(drafting)}
            else:
                from assistant.evaluation.retrieval import evaluate
                out = evaluate(points, queries, settings) | {"data": [str(points), str(queries)]}
                if retrieval_set is not None:
                    from assistant.evaluation.similar_cases import evaluate_similar_cases
                    out["similar_cases"] = evaluate_similar_cases(retrieval_set, settings) | {
                        "data": str(retrieval_set)}
                from assistant.evaluation.judged_pairs import evaluate_stored_judgements
                try:
                    out["judgements"] = evaluate_stored_judgements(settings)
                except Exception as exc:  # the data-set figures stand without the store's judgements
                    out["judgements"] = {"error": f"{type(exc).__name__}: {exc}"}
        except Exception as exc:  # report and go on
            out = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=5)}
        result["parts"][part] = out
    return result


DRAFTING_FIGURES = ("records", "valid_rate", "isbar_macro_f1", "coverage", "points", "polarity_error_rate",
                    "copied_field_rate", "severity_off_rate", "category_accuracy", "went_well_recall",
                    "evidence_validity", "median_seconds_short", "median_seconds_long", "extractive_drafts")


def _drafting_table(t: Table, data: dict[str, Any]) -> None:
    """One column per drafting method, one row per figure; without an LLM, the data set's shape."""
    methods = data.get("methods", {})
    t.add_column("figure")
    if not methods:
        t.add_column("value")
        for k in ("records", "reference_points", "real_records", "styles", "skipped"):
            if k in data:
                t.add_row(k, str(data[k]))
        return
    for name in methods:
        t.add_column(name)
    for figure in DRAFTING_FIGURES:
        t.add_row(figure, *(str(m.get(figure)) for m in methods.values()))


def _pseudonymisation_versions(t: Table, versions: dict[str, Any]) -> None:
    """The older recognisers beside the current ones: held-out P/R per type, negatives altered, leaks."""
    for version, v in versions.items():
        for name, s in v["held_out"].items():
            t.add_row(f"{version} held-out {name}", f"{s['precision']:.3f}", f"{s['recall']:.3f}",
                      str(s["tp"]), str(s["fp"]), str(s["fn"]))
        neg, leaks = v["negatives_altered"], v["leaks"]
        t.add_row(f"{version} negatives altered", f"sentence {neg['sentence']:.3f}", f"case {neg['whole_case']:.3f}",
                  f"n {neg['negatives']}", "", "")
        t.add_row(f"{version} CPR leaks", f"prompts {leaks['cpr_in_prompts']}", f"index {leaks['cpr_in_index']}",
                  f"digits only {leaks['cpr_in_prompts_digits_only']}/{leaks['cpr_in_index_digits_only']}", "", "")


def tables(result: dict[str, Any]) -> list[Table]:
    out = []
    for part, data in result["parts"].items():
        t = Table(title=part)
        if "error" in data:
            t.add_column("error")
            t.add_row(data["error"])
        elif part == "asr":
            for c in ("file", "WER", "CER"):
                t.add_column(c)
            for f in data["files"]:
                t.add_row(f["file"], f"{f['wer']:.3f}", f"{f['cer']:.3f}")
            p = data["pooled"]
            t.add_row("pooled", *(f"{p[k]:.3f}" if p[k] is not None else "–" for k in ("wer", "cer")))
            for kind, report in data.get("confidence", {}).items():
                out.append(t)
                t = _confidence_table(kind, report)
        elif part == "pseudonymisation":
            for c in ("type", "precision", "recall", "tp", "fp", "fn"):
                t.add_column(c)
            for name, s in data["per_type"].items():
                t.add_row(name, f"{s['precision']:.3f}", f"{s['recall']:.3f}", str(s["tp"]), str(s["fp"]), str(s["fn"]))
            leaks = data["leaks"]
            t.add_row("CPR leaks", f"prompts {leaks['cpr_in_prompts']}", f"index {leaks['cpr_in_index']}",
                      f"source {leaks['cpr_in_source']}", "", "")
            _pseudonymisation_versions(t, data.get("versions", {}))
        elif part == "drafting":
            _drafting_table(t, data)
        else:
            t.add_column("method")
            for c in ("recall@1", "recall@5", "recall@10", "mrr", "ndcg@10"):
                t.add_column(c)
            for method, s in data["methods"].items():
                t.add_row(method, *(f"{v:.3f}" for v in s.values()))
            if "similar_cases" in data:
                out.append(t)
                t = _similar_cases_table(data["similar_cases"])
            if "judgements" in data:
                out.append(t)
                t = _judgements_table(data["judgements"])
        out.append(t)
    return out


def _confidence_table(kind: str, data: dict[str, Any]) -> Table:
    """Low-confidence marking against the recogniser's errors: one row per threshold, the configured one and the
    best within the marked-share limit named."""

    def share(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    best = data["best_within_limit"]
    verdict = {True: "met", False: "not met", None: "no errors to find"}[data["target_met"]]
    label = "recorded audio" if kind == "recorded" else "generated audio (espeak-ng, synthetic: second figure only)"
    t = Table(title=f"asr word confidence, {label}: {data['files']} files; recall ≥ {data['recall_target']:.0%} "
                    f"at ≤ {data['marked_share_limit']:.0%} marked: {verdict} (reachable at most "
                    f"{share(data['recall_ceiling_at_limit'])}); errors ranked below right words: "
                    f"{share(data['error_ranking_auc'])} (0.5 = chance); {data['deleted_reference_words']} "
                    f"deleted reference words (cannot be marked)")
    for c in ("threshold", "words", "errors", "marked", "marked share", "recall", "precision", "note"):
        t.add_column(c)
    for row in data["sweep"]:
        notes = [n for n, on in (("configured", row["threshold"] == data["threshold"]),
                                 ("best ≤ limit", row == best)) if on]
        t.add_row(f"{row['threshold']:g}", str(row["words"]), str(row["errors"]), str(row["marked"]),
                  share(row["marked_share"]), share(row["recall"]), share(row["precision"]), ", ".join(notes))
    return t


_SIMILAR_METHODS = {"dense": "dense (today)", "hybrid": "hybrid, by points (before)",
                    "new": "hybrid + case vectors (new)"}


def _similar_cases_table(data: dict[str, Any]) -> Table:
    """Leave-one-out on real narratives: per split and method, recall@5 / MRR per query form, threshold errors."""
    t = Table(title=f"similar cases, leave-one-out ({data['scored_cases']} scored of {data['cases']} cases, "
                    f"{data['groups']} failure modes, {data['off_topic']} off-topic; threshold {data['threshold']})")
    for c in ("split", "method", "question R@5 / MRR", "opening R@5 / MRR", "title R@5 / MRR",
              "off-topic with hit", "on-topic 'nothing'"):
        t.add_column(c)
    for split, methods in data["summary"].items():
        for method, figures in methods.items():
            forms = [f"{figures[f]['recall@5']:.3f} / {figures[f]['mrr']:.3f}" if figures[f] else "–"
                     for f in ("question", "opening", "title")]
            errors = figures["threshold"]
            t.add_row(split, _SIMILAR_METHODS.get(method, method), *forms,
                      f"{errors['off_topic_with_hit']:.1%}", f"{errors['on_topic_nothing']:.1%}")
    return t


def _judgements_table(data: dict[str, Any]) -> Table:
    """The search against learning agents' "similar" / "not similar" judgements; one line when there are none."""
    if "error" in data or not data.get("judgements"):
        t = Table(title="similarity judgements (Review)")
        t.add_column("note")
        t.add_row(data.get("error") or "no similarity judgements in the store yet")
        return t
    k = data["k"]
    t = Table(title=f"similarity judgements (Review): {data['judgements']} judgements, "
                    f"{data['similar_judgements']} similar, {data['not_similar_judgements']} not similar; "
                    f"{data['skipped_queries']} directions not scorable (other case not approved)")
    for c in ("pairs", "queries", "figure", "value"):
        t.add_column(c)
    for kind, figure in (("similar", f"recall@{k}"), ("not_similar", f"false_similar@{k}")):
        value = data[figure]
        t.add_row(kind.replace("_", " "), str(data[f"{kind}_queries"]), figure,
                  "–" if value is None else f"{value:.3f}")
    return t


def print_and_write(result: dict[str, Any], output: Path | None, console: Console | None = None) -> None:
    console = console or Console(width=160)
    for t in tables(result):
        console.print(t)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str), "utf-8")
