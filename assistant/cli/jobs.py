"""`debrief jobs list|retry` and `debrief worker`, and how a job run is shown (also used by `debrief ingest`)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from assistant.cli.common import PLAIN, console, database, translate_cli, user_errors
from assistant.jobs import Components
from assistant.jobs.pipeline import PIPELINE
from assistant.models import JobProgress, JobStatus, Stage
from assistant.settings import Settings, get_settings


class StageBars:
    """One progress bar per pipeline stage, as the job reports them."""

    # Derived from the pipeline, so a stage added there gets its bar (and its place) here without a second list.
    STAGES: tuple[Stage, ...] = tuple(stage for step in PIPELINE for stage in step.stages)

    def __init__(self, progress: Progress, stages: tuple[Stage, ...]):
        self.progress = progress
        self.tasks: dict[Stage, TaskID] = {
            stage: progress.add_task(translate_cli(f"job.stage_{stage.value}"), total=1.0) for stage in stages
        }

    def __call__(self, update: JobProgress) -> None:
        for stage, task in self.tasks.items():
            if self.STAGES.index(stage) < self.STAGES.index(update.stage):
                self.progress.update(task, completed=1.0)
        if update.stage in self.tasks:
            self.progress.update(self.tasks[update.stage], completed=update.progress)


def run_with_bars(db, settings: Settings, job_id: str) -> JobProgress:
    """Run a job now, with a bar for each stage still ahead of it (a resumed job skips the stages it has done)."""
    from assistant.jobs import job_progress, run_job

    start_stage = job_progress(db, job_id).stage
    stages = StageBars.STAGES[StageBars.STAGES.index(start_stage):]
    with Progress(TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=console) as progress:
        return run_job(db, Components(settings), job_id, progress=StageBars(progress, stages))


def print_outcome(db, result: JobProgress) -> None:
    """What a finished job drafted and how to see it, or why it failed (exit code 1, so scripts notice)."""
    from assistant.cases import load_case

    if result.status == JobStatus.failed:
        console.print(f"[red]{translate_cli('cli.failed', error=result.error, job_id=result.job_id)}[/red]")
        raise typer.Exit(code=1)
    view = load_case(db, result.case_id)
    console.print(translate_cli("cli.drafted", count=len(view.learning_points)))
    for lp in view.learning_points:
        console.print(f"  • [{lp.category}] {lp.title}")
    console.print(f"debrief show {view.reference or view.id}")


def jobs_list(status: Annotated[str | None, typer.Option(help="queued, running, done, failed")] = None) -> None:
    """List jobs, newest first."""
    from sqlalchemy import select

    from assistant.store.tables import Job

    db = database(get_settings())
    with db.session() as session:
        query = select(Job).order_by(Job.created_at.desc()).limit(100)
        if status:
            query = query.where(Job.status == status)
        for job in session.scalars(query):
            console.print(f"{job.id}  {job.case.reference or job.case_id}  {job.status:<8} {job.stage:<16} {job.progress:>4.0%}  "
                          f"{job.error or ''}", **PLAIN)


def jobs_retry(job_id: str, wait: bool = True) -> None:
    """Queue a failed job again (it resumes at the stage where it stopped) and, by default, run it now."""
    from assistant.jobs import retry_job, run_job

    settings = get_settings()
    db = database(settings)
    with user_errors():
        retry_job(db, job_id)
    if wait:
        print_outcome(db, run_job(db, Components(settings), job_id))


def worker(once: Annotated[bool, typer.Option(help="Run what is queued, then exit.")] = False) -> None:
    """Process queued jobs (several workers may share one PostgreSQL database)."""
    from assistant.jobs import Worker

    settings = get_settings()
    runner = Worker(database(settings), Components(settings))
    if once:
        runner.housekeep()
        runner.run_pending()
        return
    runner.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        runner.stop(timeout=30)
