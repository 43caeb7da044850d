"""The job runner: stages run under a lease over the jobs table, so work survives crashes and runs once.

A job is claimed by an atomic compare-and-set (queued, or running with an expired lease → running, owned by
this worker). Each pipeline step commits its results together with the job's next stage, so a killed worker
leaves either the old state or the new one; whoever claims the job next resumes at the stored stage.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable

from sqlalchemy import select, update

from assistant.disk_full import is_disk_full, storage_full
from assistant.errors import USER_ERRORS, InvalidInput, NotFound, user_message
from assistant.i18n import translate
from assistant.jobs.components import Components
from assistant.jobs.pipeline import PIPELINE, steps_from
from assistant.jobs.recordings import purge_expired_audio
from assistant.models import CaseStatus, JobProgress, JobStatus, SourceKind, Stage
from assistant.store import Database
from assistant.store.tables import AudioFile, Case, Job, utcnow

log = logging.getLogger(__name__)

ProgressFn = Callable[[JobProgress], None]
LEASE_SECONDS = 120
HOUSEKEEPING_SECONDS = 300.0  # how often the worker deletes recordings whose time is up (hours, not seconds, matter)


def worker_id() -> str:
    """Identifies this process among workers, for leases."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def claim_job(db: Database, job_id: str, owner: str, lease_seconds: int = LEASE_SECONDS) -> bool:
    """Take ``job_id`` if it is free (queued, or its previous worker's lease ran out)."""
    now = utcnow()
    with db.session() as session:
        result = session.execute(
            update(Job)
            .where(
                Job.id == job_id,
                (Job.status == JobStatus.queued.value)
                | ((Job.status == JobStatus.running.value) & (Job.lease_expires_at < now)),
            )
            .values(
                status=JobStatus.running.value,
                lease_owner=owner,
                lease_expires_at=now + dt.timedelta(seconds=lease_seconds),
                attempts=Job.attempts + 1,
                error=None,
                error_key=None,
            )
        )
        return result.rowcount == 1


def claim_next_job(db: Database, owner: str, lease_seconds: int = LEASE_SECONDS) -> str | None:
    """The oldest claimable job of the highest priority, claimed for ``owner``; None when there is nothing to do.

    Demo cases are left alone: ``debrief demo load`` runs their jobs itself, with drafts no worker has.
    """
    now = utcnow()
    with db.session() as session:
        candidates = session.scalars(
            select(Job.id)
            .join(Case, Case.id == Job.case_id)
            .where(
                (Job.status == JobStatus.queued.value)
                | ((Job.status == JobStatus.running.value) & (Job.lease_expires_at < now))
            )
            .where(Case.source_kind != SourceKind.demo.value)
            .order_by(Job.priority.desc(), Job.created_at)  # public reports wait behind staff work
            .limit(10)
        ).all()
    for job_id in candidates:
        if claim_job(db, job_id, owner, lease_seconds):
            return job_id
    return None


def _renew_lease(db: Database, job_id: str, owner: str, lease_seconds: int) -> None:
    with db.session() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.lease_owner == owner)
            .values(lease_expires_at=utcnow() + dt.timedelta(seconds=lease_seconds))
        )


def job_progress(db: Database, job_id: str) -> JobProgress:
    """A snapshot for progress bars and status pages."""
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound("record.not_found", what="record.what.job", job_id=job_id)
        return JobProgress(
            job_id=job.id,
            case_id=job.case_id,
            stage=Stage(job.stage),
            status=JobStatus(job.status),
            progress=job.progress,
            error_key=job.error_key,
            error=job.error,
            attempts=job.attempts,
        )


class _Reporter:
    """Forwards progress to the caller at once and to the jobs table at most once a second."""

    def __init__(self, db: Database, job_id: str, owner: str, lease_seconds: int, callback: ProgressFn | None):
        self.db, self.job_id, self.owner, self.lease_seconds, self.callback = db, job_id, owner, lease_seconds, callback
        self._last_write = 0.0
        self.stage: Stage | None = None  # the last stage reported

    def __call__(self, stage: Stage, fraction: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        now = time.monotonic()
        if stage != self.stage or now - self._last_write >= 1.0 or fraction >= 1.0:
            self.stage, self._last_write = stage, now
            with self.db.session() as session:
                session.execute(
                    update(Job)
                    .where(Job.id == self.job_id, Job.lease_owner == self.owner)
                    .values(
                        stage=stage.value,
                        progress=fraction,
                        lease_expires_at=utcnow() + dt.timedelta(seconds=self.lease_seconds),
                    )
                )
        if self.callback:
            self.callback(
                JobProgress(job_id=self.job_id, case_id="", stage=stage, status=JobStatus.running, progress=fraction)
            )


def run_job(
    db: Database,
    components: Components,
    job_id: str,
    *,
    owner: str | None = None,
    progress: ProgressFn | None = None,
    lease_seconds: int = LEASE_SECONDS,
    claimed: bool = False,
) -> JobProgress:
    """Claim (unless ``claimed``) and run one job to its end or to a recorded failure. Safe to repeat after a crash."""
    owner = owner or worker_id()
    try:
        if not claimed and not claim_job(db, job_id, owner, lease_seconds):
            return job_progress(db, job_id)
    except Exception as error:
        if not is_disk_full(error):
            raise
        log.error("job %s not started: the disk is full", job_id)  # it stays queued for when there is room
        return job_progress(db, job_id)
    reporter = _Reporter(db, job_id, owner, lease_seconds, progress)
    stop = threading.Event()
    heartbeat = threading.Thread(
        target=_heartbeat, args=(db, job_id, owner, lease_seconds, stop), daemon=True, name=f"lease-{job_id[:6]}"
    )
    heartbeat.start()
    language = components.settings.ui_language
    stage = Stage.decoding
    try:
        for step in steps_from(job_progress(db, job_id).stage):
            stage = step.stages[0]
            step.run(db, components, job_id, reporter)
    except USER_ERRORS as error:
        _record_failure(db, job_id, error.key, user_message(error, language), permanent=isinstance(error, InvalidInput),
                        settings=components.settings)
    except Exception as error:  # noqa: BLE001 - a job must end recorded, whatever broke
        if is_disk_full(error):
            full = storage_full()
            log.error("job %s stopped at %s: the disk is full", job_id, stage.value)
            _record_failure(db, job_id, full.key, full.message(language), permanent=False,
                            settings=components.settings)
        else:
            stage = reporter.stage or stage
            _log_unexpected(job_id, stage, error)
            _record_failure(db, job_id, "error.unexpected", stored_error(error, stage, language),
                            permanent=False, settings=components.settings)
    finally:
        stop.set()
        heartbeat.join(timeout=5)
    return job_progress(db, job_id)


def stored_error(error: Exception, stage: Stage, language: str) -> str:
    """What a failed job keeps of an unexpected error. Before the transcript commits, the job holds raw text
    (typed notes, what the recogniser heard) and an exception's message can quote it (pydantic, parsers,
    Presidio), so only the error's type and the stage are kept; afterwards the text is pseudonymised."""
    if stage in PIPELINE[0].stages:
        stage_name = translate(f"job.stage_{stage.value}", language)
        return translate("job.failed_before_pseudonymisation", language, error=type(error).__name__,
                         stage=stage_name.lower())
    return f"{type(error).__name__}: {error}"[:500]


def _log_unexpected(job_id: str, stage: Stage, error: Exception) -> None:
    """Where it broke, without what it said: exception messages can quote the transcript (pydantic, parsers),
    and logs must hold no transcript text by default. The message itself is kept with the job; DEBUG logs all."""
    where = "".join(traceback.format_tb(error.__traceback__)[-3:])
    log.error("job %s failed at %s with %s\n%s", job_id, stage.value, type(error).__name__, where.rstrip())
    log.debug("job %s failure in full", job_id, exc_info=error)


def _record_failure(db: Database, job_id: str, key: str, message: str, *, permanent: bool, settings) -> None:
    try:
        _fail(db, job_id, key, message, permanent=permanent, settings=settings)
    except Exception as error:  # noqa: BLE001 - e.g. the disk is still full: the lease runs out, the job runs again
        log.error("job %s: its failure could not be recorded (%s); it stays leased until the lease ends",
                  job_id, "disk full" if is_disk_full(error) else type(error).__name__)


def _heartbeat(db: Database, job_id: str, owner: str, lease_seconds: int, stop: threading.Event) -> None:
    while not stop.wait(max(1.0, lease_seconds / 4)):
        try:
            _renew_lease(db, job_id, owner, lease_seconds)
        except Exception:  # noqa: BLE001 - a missed renewal only shortens the lease
            log.warning("lease renewal failed for job %s", job_id)


def _fail(db: Database, job_id: str, key: str, message: str, *, permanent: bool, settings=None) -> None:
    with db.session() as session:
        job = session.get(Job, job_id)
        job.status = JobStatus.failed.value
        job.error_key = key
        job.error = message
        job.lease_owner = None
        job.lease_expires_at = None
        job.finished_at = utcnow()
        case = session.get(Case, job.case_id)
        case.status = CaseStatus.failed.value
        if permanent:
            # Bad input will not get better by retrying: drop what waits, so no raw text lingers, and let the
            # recording go as it would after a transcript (at once, or after keep_audio_days with consent).
            job.pending_segments = None
            for row in case.audio:
                if row.deleted_at is None and row.delete_after is None and not case.keep_audio:
                    row.delete_after = utcnow()
    if permanent and settings is not None:
        purge_expired_audio(db, settings)


def retry_job(db: Database, job_id: str) -> JobProgress:
    """Put a failed job back in the queue at the stage where it stopped."""
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound("record.not_found", what="record.what.job", job_id=job_id)
        if job.status != JobStatus.failed.value:
            raise InvalidInput("job.not_retryable", status=job.status)
        if _input_gone(session, job):
            raise InvalidInput("job.input_gone")
        job.status = JobStatus.queued.value
        job.error = job.error_key = None
        job.finished_at = None
        session.get(Case, job.case_id).status = CaseStatus.processing.value
    return job_progress(db, job_id)


def _input_gone(session, job: Job) -> bool:
    """A job before its transcript needs its recording or typed notes; after a refusal they may be gone."""
    if Stage(job.stage) not in (Stage.decoding, Stage.transcription, Stage.pseudonymisation):
        return False
    if job.pending_segments is not None:
        return False
    live_audio = session.scalar(
        select(AudioFile.id).where(AudioFile.case_id == job.case_id, AudioFile.deleted_at.is_(None))
    )
    return live_audio is None


class Worker:
    """The in-process worker: a background thread that runs queued jobs one at a time, oldest first."""

    def __init__(self, db: Database, components: Components, *, poll_seconds: float = 1.0):
        self.db, self.components, self.poll_seconds = db, components, poll_seconds
        self.owner = worker_id()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Worker:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="debrief-worker")
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look for work now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)

    def run_pending(self, limit: int | None = None) -> int:
        """Run claimable jobs until none is left (or ``limit``); returns how many ran."""
        done = 0
        while (limit is None or done < limit) and not self._stop.is_set():
            job_id = claim_next_job(self.db, self.owner)
            if job_id is None:
                break
            run_job(self.db, self.components, job_id, owner=self.owner, claimed=True)
            done += 1
        return done

    def housekeep(self) -> int:
        """Delete recordings whose time is up (see ``assistant.jobs.recordings``); returns how many went."""
        return purge_expired_audio(self.db, self.components.settings)

    def _loop(self) -> None:
        last_housekeeping = -HOUSEKEEPING_SECONDS  # once at start, then every few minutes
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_housekeeping >= HOUSEKEEPING_SECONDS:
                    last_housekeeping = time.monotonic()
                    self.housekeep()
                self.run_pending()
            except Exception as error:  # noqa: BLE001 - the worker must outlive one bad job
                if is_disk_full(error):
                    log.error("worker waiting: the disk is full")
                else:
                    log.exception("worker loop error")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
