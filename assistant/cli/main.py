"""The ``debrief`` command line: a thin shell over the library (no logic lives here)."""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from assistant.errors import DebriefError
from assistant.i18n import translate
from assistant.jobs import Components
from assistant.models import CaseContext, CaseStatus, JobProgress, JobStatus, Sector, Stage
from assistant.settings import Settings, get_settings

app = typer.Typer(help="Debrief: from debrief conversations to shared learning.", no_args_is_help=True)
jobs_app = typer.Typer(help="Jobs: list and retry.", no_args_is_help=True)
db_app = typer.Typer(help="Record store.", no_args_is_help=True)
models_app = typer.Typer(help="Bundled models.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
app.add_typer(db_app, name="db")
app.add_typer(models_app, name="models")
index_app = typer.Typer(help="The learning index (derived from the record store).", no_args_is_help=True)
review_app = typer.Typer(help="Learning-agent review from the shell (acts as the local administrator).",
                         no_args_is_help=True)
app.add_typer(index_app, name="index")
app.add_typer(review_app, name="review")

console = Console()
AUDIO_SUFFIXES = {".wav", ".mp3", ".m4a", ".ogg", ".opus", ".webm", ".mp4", ".flac", ".aac", ".mkv", ".mov"}


def _t(key: str, **params: object) -> str:
    return translate(f"cli.{key}", get_settings().ui_language, **params)


def _fail(error: DebriefError) -> None:
    console.print(f"[red]{error.message(get_settings().ui_language)}[/red]")
    raise typer.Exit(code=2)


def _database(settings: Settings):
    from assistant.store import open_database

    return open_database(settings)


class _StageBars:
    """One progress bar per pipeline stage, as the job reports them."""

    STAGES = (Stage.decoding, Stage.transcription, Stage.pseudonymisation, Stage.drafting)

    def __init__(self, progress: Progress, stages: tuple[Stage, ...]):
        language = get_settings().ui_language
        self.progress = progress
        self.tasks: dict[Stage, TaskID] = {
            stage: progress.add_task(translate(f"job.stage_{stage.value}", language), total=1.0) for stage in stages
        }

    def __call__(self, update: JobProgress) -> None:
        for stage, task in self.tasks.items():
            if self.STAGES.index(stage) < self.STAGES.index(update.stage):
                self.progress.update(task, completed=1.0)
        if update.stage in self.tasks:
            self.progress.update(self.tasks[update.stage], completed=update.progress)


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Recording (wav, mp3, m4a, ogg, webm, mp4 …) or notes (.txt/.md).")],
    sector: Annotated[Sector, typer.Option(help="hospital, municipality, general_practice or other.")] = Sector.hospital,
    unit: Annotated[str, typer.Option(help="The unit, e.g. 'Akutmodtagelsen'.")] = "",
    event_date: Annotated[Optional[dt.datetime], typer.Option(formats=["%Y-%m-%d"], help="YYYY-MM-DD")] = None,
    event_type: Annotated[str, typer.Option(help="Type of event, e.g. 'medicinering'.")] = "",
    keep_audio: Annotated[bool, typer.Option(help="Keep the recording (consent given) for the retention period.")] = False,
    wait: Annotated[bool, typer.Option(help="Process now with progress bars (else only queue it).")] = True,
) -> None:
    """Hand in a debrief recording or typed notes; shows progress per stage and what was drafted."""
    from assistant.intake import submit_notes, submit_recording
    from assistant.jobs import job_progress, run_job

    settings = get_settings()
    db = _database(settings)
    context = CaseContext(
        sector=sector, unit=unit, event_date=event_date.date() if event_date else None,
        event_type=event_type, keep_audio=keep_audio,
    )
    try:
        if path.suffix.lower() in {".txt", ".md"}:
            submission = submit_notes(db, settings, path.read_text(encoding="utf-8", errors="replace"), context)
        else:
            submission = submit_recording(db, settings, path, context)
    except DebriefError as error:
        _fail(error)
    console.print(f"{_t('case_id')}: [bold]{submission.case_id}[/bold]")
    if submission.duplicate:
        console.print(_t("duplicate"))
        return
    console.print(f"{_t('receipt')}: [bold]{submission.receipt_code}[/bold]")
    if not wait:
        console.print(_t("queued", job_id=submission.job_id))
        return
    start_stage = job_progress(db, submission.job_id).stage
    stages = _StageBars.STAGES[_StageBars.STAGES.index(start_stage):]
    with Progress(TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=console) as progress:
        result = run_job(db, Components(settings), submission.job_id, progress=_StageBars(progress, stages))
    _report(db, result)


def _report(db, result: JobProgress) -> None:
    from assistant.cases import load_case

    if result.status == JobStatus.failed:
        console.print(f"[red]{_t('failed', error=result.error, job_id=result.job_id)}[/red]")
        raise typer.Exit(code=1)
    view = load_case(db, result.case_id)
    console.print(_t("drafted", count=len(view.learning_points)))
    for lp in view.learning_points:
        console.print(f"  • [{lp.category}] {lp.title}")
    console.print(f"debrief show {view.id}")


@app.command()
def show(case_id: str) -> None:
    """Print a case: timestamped pseudonymised transcript, ISBAR with its sources, draft learning points."""
    from assistant.cases import format_timestamp, load_case

    settings = get_settings()
    try:
        view = load_case(_database(settings), case_id)
    except DebriefError as error:
        _fail(error)
    language = settings.ui_language
    console.rule(f"{_t('case_id')} {view.id} · {view.sector} · {view.unit} · {view.event_date or ''} · {view.status}")
    console.print(f"[bold]{_t('transcript')}[/bold] ({view.transcript_model or '-'})")
    timed = any(s.end > 0 for s in view.segments)
    stamps = {s.index: (format_timestamp(s.start) if timed else f"#{s.index}") for s in view.segments}
    for s in view.segments:
        console.print(f"  [{s.index}] {stamps[s.index]}  {s.text}", markup=False, highlight=False)
    if not view.isbar and not view.learning_points:
        console.print(_t("no_draft", status=view.status))
        return
    console.print(f"\n[bold]{_t('isbar')}[/bold] ({view.prompt}, {view.draft_model})")
    for section in view.isbar:
        sources = ", ".join(stamps.get(i, f"#{i}") for i in section.segment_indices)
        console.print(f"  [bold]{translate('isbar.' + section.part.value, language)}[/bold] [{sources}]")
        console.print(f"    {section.text}", markup=False, highlight=False)
    console.print(f"\n[bold]{_t('learning_points')}[/bold]")
    for lp in view.learning_points:
        console.print(f"  {lp.position + 1}. {lp.title}  ({_t('category')}: {lp.category}, "
                      f"{_t('severity')}: {lp.severity}{', Safety-II' if lp.safety_ii else ''}; {lp.status})",
                      markup=False, highlight=False)
        console.print(f"     {lp.what_happened}", markup=False, highlight=False)
        for label, items in ((_t("factors"), lp.contributing_factors), (_t("went_well"), lp.what_went_well),
                             (_t("actions"), [a.get("action", "") for a in lp.suggested_actions])):
            if items:
                console.print(f"     {label}: " + "; ".join(items), markup=False, highlight=False)
        for ev in lp.evidence:
            console.print(f"     {_t('evidence')} [{stamps.get(ev['segment_index'], '?')}]: “{ev['quote']}”",
                          markup=False, highlight=False)
        if not lp.evidence and lp.status == "draft":
            console.print(f"     {_t('no_evidence')}", markup=False, highlight=False)


@jobs_app.command("list")
def jobs_list(status: Annotated[Optional[str], typer.Option(help="queued, running, done, failed")] = None) -> None:
    """List jobs, newest first."""
    from sqlalchemy import select

    from assistant.store.tables import Job

    db = _database(get_settings())
    with db.session() as session:
        query = select(Job).order_by(Job.created_at.desc()).limit(100)
        if status:
            query = query.where(Job.status == status)
        for job in session.scalars(query):
            console.print(f"{job.id}  {job.case_id}  {job.status:<8} {job.stage:<16} {job.progress:>4.0%}  "
                          f"{job.error or ''}", markup=False, highlight=False)


@jobs_app.command("retry")
def jobs_retry(job_id: str, wait: bool = True) -> None:
    """Queue a failed job again (it resumes at the stage where it stopped) and, by default, run it now."""
    from assistant.jobs import retry_job, run_job

    settings = get_settings()
    db = _database(settings)
    try:
        retry_job(db, job_id)
    except DebriefError as error:
        _fail(error)
    if wait:
        _report(db, run_job(db, Components(settings), job_id))


@app.command()
def worker(once: Annotated[bool, typer.Option(help="Run what is queued, then exit.")] = False) -> None:
    """Process queued jobs (several workers may share one PostgreSQL database)."""
    from assistant.jobs import Worker

    settings = get_settings()
    runner = Worker(_database(settings), Components(settings))
    if once:
        runner.run_pending()
        return
    runner.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        runner.stop(timeout=30)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (SQLite file or the PostgreSQL URL in DEBRIEF_DATABASE_URL)."""
    from assistant.store.database import open_database

    open_database(get_settings(), upgrade=True)
    console.print(_t("db_ready"))


@models_app.command("prepare")
def models_prepare() -> None:
    """Assemble and checksum-verify the bundled models into the cache (once; repairs a corrupt cache)."""
    from assistant.model_cache import ensure_bundled_models

    settings = get_settings()
    try:
        paths = ensure_bundled_models(settings)
    except DebriefError as error:
        _fail(error)
    for name, path in paths.items():
        console.print(f"{name}: {path}")
    console.print(_t("models_ready"))


def _runtime():
    from assistant.jobs import Runtime

    return Runtime.create(get_settings())


def _filters(sector: list[Sector] | None, category: list[str] | None, since: dt.datetime | None,
             until: dt.datetime | None, unit: list[str] | None = None, safety_ii: bool | None = None):
    from vectorstore.schema import SearchFilters

    return SearchFilters(
        sectors=[s.value for s in sector or []], categories=list(category or []), units=list(unit or []),
        since=since.date() if since else None, until=until.date() if until else None,
        include_safety_ii=safety_ii,
    )


SectorOpt = Annotated[Optional[list[Sector]], typer.Option("--sector", help="Repeat for several.")]
CategoryOpt = Annotated[Optional[list[str]], typer.Option("--category", help="Category id, e.g. medicin.")]
UnitOpt = Annotated[Optional[list[str]], typer.Option("--unit")]
SinceOpt = Annotated[Optional[dt.datetime], typer.Option(formats=["%Y-%m-%d"], help="Event date from (YYYY-MM-DD).")]
UntilOpt = Annotated[Optional[dt.datetime], typer.Option(formats=["%Y-%m-%d"], help="Event date to (YYYY-MM-DD).")]


@app.command()
def similar(query: str, sector: SectorOpt = None, category: CategoryOpt = None, unit: UnitOpt = None,
            since: SinceOpt = None, until: UntilOpt = None, k: int = 5) -> None:
    """Approved learning points similar to QUERY, ranked, with a clear answer when nothing is similar enough."""
    from assistant.auth import Actor, Role
    from assistant.chat import similar_cases

    runtime = _runtime()
    try:
        result = similar_cases(runtime.index, Actor(name="cli", role=Role.staff), query,
                               _filters(sector, category, since, until, unit), k=k)
    except DebriefError as error:
        _fail(error)
    if result.nothing_similar:
        console.print(translate("ask.nothing_similar", runtime.settings.ui_language))
        if not result.hits:
            return
    for hit in result.hits:
        console.print(f"{hit.rank}. {hit.score:.3f}  [{hit.case_id} / {hit.learning_point_id}]  {hit.unit or '-'}  "
                      f"{hit.event_date or '-'}  {hit.category}  {hit.title}", markup=False, highlight=False)


@app.command()
def ask(question: str, sector: SectorOpt = None, category: CategoryOpt = None, unit: UnitOpt = None,
        since: SinceOpt = None, until: UntilOpt = None) -> None:
    """Answer in Danish from approved learning points only; every claim cites its case and learning point."""
    from assistant.auth import Actor, Role
    from assistant.chat import stream_answer

    runtime = _runtime()
    try:
        for event in stream_answer(runtime.index, runtime.components.chat, runtime.settings,
                                   Actor(name="cli", role=Role.staff), question,
                                   _filters(sector, category, since, until, unit)):
            console.print(event.text_delta, end="", markup=False, highlight=False)
            if event.done and event.citations:
                console.print()
                for c in event.citations:
                    console.print(f"  {c.label} {c.title}", markup=False, highlight=False)
    except DebriefError as error:
        _fail(error)
    console.print()


@index_app.command("rebuild")
def index_rebuild() -> None:
    """Recreate the index from the record store and verify that it matches."""
    from assistant.indexing import rebuild_index

    runtime = _runtime()
    diff = rebuild_index(runtime.db, runtime.index)
    console.print(f"{runtime.index.count()} learning points indexed; differences: "
                  f"{len(diff.missing)} missing, {len(diff.orphaned)} orphaned, {len(diff.stale)} stale")
    if not diff.consistent:
        raise typer.Exit(code=1)


@index_app.command("check")
def index_check() -> None:
    """Compare the index with the record store (exit 1 on any difference)."""
    from assistant.indexing import check_index

    runtime = _runtime()
    diff = check_index(runtime.db, runtime.index)
    console.print(f"missing={diff.missing} orphaned={diff.orphaned} stale={diff.stale}")
    if not diff.consistent:
        raise typer.Exit(code=1)


@review_app.command("list")
def review_list(
    sector: SectorOpt = None,
    unit: Annotated[Optional[str], typer.Option(help="Part of the unit's name, e.g. 'akut'.")] = None,
    category: Annotated[Optional[str], typer.Option(help="Category id, e.g. medicin.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    status: Annotated[Optional[list[CaseStatus]], typer.Option(
        "--status", help="Case status; repeat for several (default: awaiting_review and in_review).")] = None,
) -> None:
    """Cases awaiting review, oldest first, narrowed by sector, unit, category, event date and case status."""
    from assistant.auth import SYSTEM
    from assistant.review import QueueFilters, review_queue

    filters = QueueFilters(sectors=list(sector or []), unit=unit or None, category=category or None,
                           since=since.date() if since else None, until=until.date() if until else None)
    if status:
        filters.statuses = list(status)
    for item in review_queue(_database(get_settings()), SYSTEM, filters):
        console.print(f"{item.case_id}  {item.status:<16} {item.sector:<16} {item.unit or '-':<24} "
                      f"{item.pending_points} open  {', '.join(item.categories)}", markup=False, highlight=False)


@review_app.command("approve")
def review_approve(point_id: str, public: Annotated[bool, typer.Option(help="Visible to anonymous readers.")] = False
                   ) -> None:
    """Approve a learning point (it becomes searchable at once)."""
    from assistant.auth import SYSTEM
    from assistant.review import approve

    runtime = _runtime()
    try:
        approve(runtime.db, runtime.index, SYSTEM, point_id, visibility="public" if public else "staff")
    except DebriefError as error:
        _fail(error)


@review_app.command("reject")
def review_reject(point_id: str, reason: str, note: str = "") -> None:
    """Reject a learning point with a reason (not_a_learning_point, duplicate, insufficient_evidence, …)."""
    from assistant.auth import SYSTEM
    from assistant.review import reject

    runtime = _runtime()
    try:
        reject(runtime.db, runtime.index, SYSTEM, point_id, reason=reason, note=note or None)
    except DebriefError as error:
        _fail(error)


@app.command()
def erase(case_id: str, reason: str = "gdpr") -> None:
    """Erase a case everywhere (store, index, audio); the audit log keeps only that it happened."""
    from assistant.auth import SYSTEM
    from assistant.review import erase_case

    runtime = _runtime()
    try:
        erase_case(runtime.db, runtime.index, runtime.settings, SYSTEM, case_id, reason=reason)
    except DebriefError as error:
        _fail(error)


def _register_optional_commands() -> None:
    """Commands from modules that may add their own (the app's ``serve`` and ``users``)."""
    from assistant.cli.app_commands import register as register_app
    from assistant.cli.bench import register as register_bench
    from assistant.cli.learning import register as register_learning

    register_app(app)
    register_bench(app)
    register_learning(app)


_register_optional_commands()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
