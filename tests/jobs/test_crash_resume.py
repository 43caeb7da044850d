"""A worker killed mid-job leaves no half-written case; the job resumes once and finishes once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assistant.intake import submit_recording
from assistant.jobs import Components, job_progress, pipeline, run_job
from assistant.models import CaseContext, JobStatus, Stage
from assistant.store import open_database
from assistant.store.tables import Draft, LearningPoint, PseudonymEntry, Transcript
from tests.support import audio_factory
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft

ROOT = Path(__file__).resolve().parents[2]


def counts(db) -> dict[str, int]:
    with db.session() as session:
        return {
            table.__tablename__: session.scalar(select(func.count()).select_from(table))
            for table in (Transcript, PseudonymEntry, Draft, LearningPoint)
        }


def start_worker(settings, job_id: str, slow_stage: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.crash_worker", str(settings.data_dir), job_id, slow_stage],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def wait_for_stage(db, job_id: str, stage: Stage, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress = job_progress(db, job_id)
        if progress.status == JobStatus.running and progress.stage == stage:
            return
        time.sleep(0.2)
    raise AssertionError(f"job never reached {stage}: {job_progress(db, job_id)}")


@pytest.mark.parametrize("slow_stage", ["transcription", "drafting"])
def test_killed_worker_leaves_no_half_written_case_and_the_job_finishes_once(settings, tmp_path, monkeypatch,
                                                                              slow_stage):
    db = open_database(settings)
    recording = audio_factory.tone(tmp_path / "a.wav", seconds=2.0)
    submission = submit_recording(db, settings, recording, CaseContext())
    worker = start_worker(settings, submission.job_id, slow_stage)
    try:
        wait_for_stage(db, submission.job_id, Stage(slow_stage))
        time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)

    after_kill = counts(db)
    if slow_stage == "transcription":
        assert after_kill == {"transcripts": 0, "pseudonym_entries": 0, "drafts": 0, "learning_points": 0}
    else:
        assert after_kill["transcripts"] == 1 and after_kill["drafts"] == 0

    # Another worker may not take the job while the dead worker's lease still runs; afterwards it resumes.
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    transcriber = FakeTranscriber()
    components = Components(settings, transcriber_=transcriber, pseudonymiser_=FakePseudonymiser(), chat_=FakeChat())
    assert run_job(db, components, submission.job_id, lease_seconds=2).status == JobStatus.running
    time.sleep(2.5)
    result = run_job(db, components, submission.job_id, lease_seconds=2)
    assert result.status == JobStatus.done and result.attempts == 2
    assert transcriber.calls == (1 if slow_stage == "transcription" else 0)
    assert counts(db) == {"transcripts": 1, "pseudonym_entries": 1, "drafts": 1, "learning_points": 1}
    # Once done, running it again does nothing.
    assert run_job(db, components, submission.job_id).status == JobStatus.done
    assert counts(db)["drafts"] == 1
