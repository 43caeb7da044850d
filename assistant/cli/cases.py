"""`debrief ingest`, `debrief show` and `debrief erase`: a case handed in, read back, and erased everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import PLAIN, DateOpt, console, database, day, open_runtime, translate_cli, user_errors
from assistant.cli.jobs import print_outcome, run_with_bars
from assistant.models import CaseContext, Sector
from assistant.settings import get_settings


def ingest(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Recording (wav, mp3, m4a, ogg, webm, "
                                                                          "mp4 …) or notes (.txt/.md).")],
    sector: Annotated[Sector, typer.Option(help="hospital, municipality, general_practice or other.")] = (
        Sector.hospital),
    unit: Annotated[str, typer.Option(help="The unit, e.g. 'Akutmodtagelsen'.")] = "",
    event_date: DateOpt = None,
    event_type: Annotated[str, typer.Option(help="Type of event, e.g. 'medicinering'.")] = "",
    keep_audio: Annotated[bool, typer.Option(help="Keep the recording (consent given) for the retention "
                                                  "period.")] = False,
    wait: Annotated[bool, typer.Option(help="Process now with progress bars (else only queue it).")] = True,
) -> None:
    """Hand in a debrief recording or typed notes; shows progress per stage and what was drafted."""
    from assistant.intake import submit_notes, submit_recording

    settings = get_settings()
    db = database(settings)
    context = CaseContext(
        sector=sector, unit=unit, event_date=day(event_date),
        event_type=event_type, keep_audio=keep_audio,
    )
    with user_errors():
        if path.suffix.lower() in {".txt", ".md"}:
            submission = submit_notes(db, settings, path.read_text(encoding="utf-8", errors="replace"), context)
        else:
            submission = submit_recording(db, settings, path, context)
    console.print(f"{translate_cli('cli.case_id')}: [bold]{submission.reference or submission.case_id}[/bold]")
    if submission.duplicate:
        console.print(translate_cli("cli.duplicate"))
        return
    console.print(f"{translate_cli('cli.receipt')}: [bold]{submission.receipt_code}[/bold]")
    if not wait:
        console.print(translate_cli("cli.queued", job_id=submission.job_id))
        return
    print_outcome(db, run_with_bars(db, settings, submission.job_id))


def show(case_id: Annotated[str, typer.Argument(help="The case's reference (UTH-2026-0142) or id.")]) -> None:
    """Print a case: timestamped pseudonymised transcript, ISBAR with its sources, draft learning points."""
    from assistant.cases import format_timestamp, load_case
    from assistant.speech.speakers import speaker_label
    from assistant.speech.words import count_uncertain, marked_pieces

    with user_errors():
        view = load_case(database(get_settings()), case_id)
    console.rule(f"{translate_cli('cli.case_id')} {view.reference or view.id} · {view.sector} · {view.unit} · "
                 f"{view.event_date or ''} · {view.status}")
    console.print(f"[bold]{translate_cli('cli.transcript')}[/bold] ({view.transcript_model or '-'})")
    timed = any(s.end > 0 for s in view.segments)
    stamps = {s.index: (format_timestamp(s.start) if timed else f"#{s.index}") for s in view.segments}
    threshold = get_settings().low_confidence
    for s in view.segments:
        text = " ".join(f"[?{piece}]" if uncertain else piece for piece, uncertain in marked_pieces(s, threshold))
        speaker = f"{speaker_label(s.speaker, get_settings().ui_language)}: " if s.speaker else ""
        console.print(f"  [{s.index}] {stamps[s.index]}  {speaker}{text}", **PLAIN)
    marked, total = count_uncertain(view.segments, threshold)
    if total:
        console.print(translate_cli("cli.low_confidence", marked=marked, total=total, threshold=f"{threshold:g}"),
                      **PLAIN)
    if not view.isbar and not view.learning_points:
        console.print(translate_cli("cli.no_draft", status=view.status))
        return
    console.print(f"\n[bold]{translate_cli('cli.isbar')}[/bold] ({view.prompt}, {view.draft_model})")
    if view.draft_method:
        from assistant.cases import warning_text

        console.print(f"  {translate_cli('draft.method.' + view.draft_method.value)}", **PLAIN)
    for warning in view.draft_warnings:
        console.print(f"  ⚠ {warning_text(warning, get_settings().ui_language)}", **PLAIN)
    for section in view.isbar:
        sources = ", ".join(stamps.get(i, f"#{i}") for i in section.segment_indices)
        console.print(f"  [bold]{translate_cli('isbar.' + section.part.value)}[/bold] [{sources}]")
        console.print(f"    {section.text}", **PLAIN)
    console.print(f"\n[bold]{translate_cli('cli.learning_points')}[/bold]")
    for lp in view.learning_points:
        _print_learning_point(lp, stamps)


def _print_learning_point(lp, stamps: dict[int, str]) -> None:
    """One draft or decided learning point of ``debrief show``, its evidence quoted at the transcript's stamps."""
    from assistant.cases import warning_text

    console.print(f"  {lp.reference or lp.position + 1}  {lp.title}  ({translate_cli('cli.category')}: {lp.category}, "
                  f"{translate_cli('cli.severity')}: {lp.severity}{', Safety-II' if lp.safety_ii else ''}; "
                  f"{lp.status})", **PLAIN)
    console.print(f"     {lp.what_happened}", **PLAIN)
    for label, items in ((translate_cli("cli.factors"), lp.contributing_factors),
                         (translate_cli("cli.went_well"), lp.what_went_well),
                         (translate_cli("cli.actions"), [a.get("action", "") for a in lp.suggested_actions])):
        if items:
            console.print(f"     {label}: " + "; ".join(items), **PLAIN)
    for ev in lp.evidence:
        stamp = stamps.get(ev["segment_index"], "?")
        console.print(f"     {translate_cli('cli.evidence')} [{stamp}]: “{ev['quote']}”", **PLAIN)
    if not lp.evidence and lp.status == "draft":
        console.print(f"     {translate_cli('cli.no_evidence')}", **PLAIN)
    for warning in lp.warnings if lp.status == "draft" else []:
        console.print(f"     ⚠ {warning_text(warning, get_settings().ui_language)}", **PLAIN)


def erase(case_id: Annotated[str, typer.Argument(help="The case's reference (UTH-2026-0142) or id.")],
          reason: str = "gdpr") -> None:
    """Erase a case everywhere (store, index, audio); the audit log keeps only that it happened."""
    from assistant.auth import SYSTEM
    from assistant.review import erase_case

    runtime = open_runtime()
    with user_errors():
        erase_case(runtime.db, runtime.index, runtime.settings, SYSTEM, case_id, reason=reason)
