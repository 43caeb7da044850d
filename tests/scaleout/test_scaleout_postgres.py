"""The record store on a real PostgreSQL server: migrations, the whole flow, several workers, the audit guard."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DatabaseError

from assistant.auth import Actor, Role
from assistant.chat import answer_question
from assistant.intake import submit_notes
from assistant.jobs import Components, job_progress, pipeline, run_job
from assistant.models import CaseContext, JobStatus, Sector, Stage
from assistant.review import approve
from assistant.settings import Settings
from assistant.store import open_database
from assistant.store.tables import AuditEvent, Draft, Job, LearningPoint, Transcript
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft
from tests.support.servers import ROOT, postgres_server, start_fake_worker
from vectorstore.index import LearningIndex

AGENT = Actor(user_id="a1", name="agent-anne", role=Role.learning_agent)
STAFF = Actor(user_id="s1", name="staff-sofie", role=Role.staff)
NOTES = "Jens fik dobbelt dosis insulin ved vagtskiftet.\n\nMette opdagede det ved dobbeltkontrollen."


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as server:
        yield server


@pytest.fixture
def pg_settings(postgres, tmp_path) -> Settings:
    """Settings whose record store is a fresh database on the PostgreSQL server."""
    return Settings(data_dir=tmp_path / "data", database_url=postgres.new_database(), cpu_threads=2)


@pytest.fixture
def db(pg_settings):
    database = open_database(pg_settings)
    yield database
    database.dispose()


def fake_components(settings: Settings) -> Components:
    return Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(), chat_=FakeChat())


def notes(n: int) -> str:
    return f"Sag {n}: Jens fik dobbelt dosis insulin ved vagtskiftet.\n\nMette opdagede det ved dobbeltkontrollen."


class CitingChat:
    """Streams one sentence that cites the first retrieved point, as a model would."""

    model_id = "citing"

    def stream(self, messages, max_tokens):
        yield from ["Dobbeltkontrol ", "ved vagtskifte ", "fangede fejlen [1]."]


def test_debrief_db_upgrade_builds_the_schema_on_postgres_and_is_repeatable(pg_settings):
    env = {**os.environ, "DEBRIEF_DATABASE_URL": pg_settings.database_url, "PYTHONPATH": str(ROOT)}
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "ui.cli", "db", "upgrade"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
    db = open_database(pg_settings, upgrade=False)
    assert db.engine.dialect.name == "postgresql"
    tables = set(inspect(db.engine).get_table_names())
    assert {"cases", "jobs", "drafts", "learning_points", "audit_events", "alembic_version"} <= tables
    with db.session() as session:
        assert session.scalar(text("SELECT count(*) FROM alembic_version")) == 1


def test_notes_become_a_reviewed_point_and_a_cited_answer_on_postgres(db, pg_settings, monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    submission = submit_notes(db, pg_settings, NOTES, CaseContext(sector=Sector.hospital, unit="Akutmodtagelsen"))
    assert run_job(db, fake_components(pg_settings), submission.job_id).status == JobStatus.done
    with db.session() as session:
        point = session.scalar(select(LearningPoint).where(LearningPoint.case_id == submission.case_id))
        segments = [s.text for s in session.scalar(select(Transcript)).segments]
    assert "Jens" not in " ".join(segments) and "[PERSON_1]" in segments[0]

    index = LearningIndex(pg_settings)
    approve(db, index, AGENT, point.id)
    answer = answer_question(index, CitingChat(), pg_settings, STAFF, "insulin dobbelt dosis ved vagtskifte")
    assert f"[{submission.reference}/{point.number}]" in answer.text_delta  # cited by its reference
    assert [c.learning_point_id for c in answer.citations] == [point.id]


def test_the_audit_log_refuses_update_and_delete_on_postgres(db, pg_settings, monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    submission = submit_notes(db, pg_settings, NOTES, CaseContext())
    run_job(db, fake_components(pg_settings), submission.job_id)
    with db.session() as session:
        point_id = session.scalar(select(LearningPoint.id))
    approve(db, LearningIndex(pg_settings), AGENT, point_id, note="Godt fanget")
    with pytest.raises(DatabaseError, match="append-only"):
        with db.session() as session:
            session.execute(text("UPDATE audit_events SET actor = 'someone-else'"))
    with pytest.raises(DatabaseError, match="append-only"):
        with db.session() as session:
            session.execute(text("DELETE FROM audit_events"))
    # Erasure may blank the content; the fact of the decision stays.
    with db.session() as session:
        session.execute(text("UPDATE audit_events SET before = NULL, after = NULL, note = NULL"))
    with db.session() as session:
        event = session.scalar(select(AuditEvent))
        assert (event.actor, event.action, event.note) == ("agent-anne", "approve", None)


def test_a_postgres_store_backed_up_with_pg_dump_restores_with_the_same_counts_search_and_audit_chain(
        db, pg_settings, postgres, tmp_path, monkeypatch):
    from assistant.audit import audit_chain
    from assistant.backup import backup, restore
    from assistant.errors import BackupRefused

    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    submission = submit_notes(db, pg_settings, NOTES, CaseContext(sector=Sector.hospital))
    run_job(db, fake_components(pg_settings), submission.job_id)
    with db.session() as session:
        point_id = session.scalar(select(LearningPoint.id))
    index = LearningIndex(pg_settings)
    approve(db, index, AGENT, point_id, note="Godt fanget")
    manifest = backup(pg_settings, tmp_path / "pg-backup.tar")
    assert manifest.dialect == "postgresql" and [f.name for f in manifest.files] == ["store/debrief.pgdump"]

    target = Settings(data_dir=tmp_path / "restored", database_url=postgres.new_database(), cpu_threads=2)
    report = restore(target, tmp_path / "pg-backup.tar")
    restored = open_database(target)
    try:
        assert report.counts == manifest.counts and report.indexed_points == 1
        with restored.engine.connect() as connection:
            assert audit_chain(connection) == (manifest.audit_events, manifest.audit_chain)
        with pytest.raises(DatabaseError, match="append-only"), restored.session() as session:
            session.execute(text("DELETE FROM audit_events"))
        query = "insulin dobbelt dosis ved vagtskifte"
        assert [(h.learning_point_id, round(h.score, 5)) for h in LearningIndex(target).search(query)] == \
            [(h.learning_point_id, round(h.score, 5)) for h in index.search(query)]
        # The database now holds the restore: a second restore into it is refused.
        with pytest.raises(BackupRefused, match="store_not_empty"):
            restore(target.model_copy(update={"data_dir": tmp_path / "elsewhere"}), tmp_path / "pg-backup.tar")
    finally:
        restored.dispose()


def _wait_until_done(db, job_ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session() as session:
            open_jobs = session.scalar(select(func.count()).where(Job.id.in_(job_ids), Job.status != "done"))
        if open_jobs == 0:
            return
        time.sleep(0.2)
    raise AssertionError([job_progress(db, j) for j in job_ids])


def test_three_worker_processes_run_ten_jobs_each_exactly_once(db, pg_settings, tmp_path):
    stop_file = tmp_path / "stop"
    workers = [start_fake_worker(pg_settings.data_dir, pg_settings.database_url, stop_file) for _ in range(3)]
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("ready-*"))) < 3:  # all three are polling before the work arrives
            assert time.monotonic() < deadline and all(w.poll() is None for w in workers), "workers did not start"
            time.sleep(0.1)
        job_ids = [submit_notes(db, pg_settings, notes(n), CaseContext()).job_id for n in range(10)]
        _wait_until_done(db, job_ids, timeout=90)
    finally:
        stop_file.touch()
        for worker in workers:
            worker.wait(30)
    with db.session() as session:
        jobs = session.scalars(select(Job)).all()
        drafts = session.scalars(select(Draft)).all()
    assert [j.attempts for j in jobs] == [1] * 10
    assert sorted(Counter(d.case_id for d in drafts).values()) == [1] * 10
    makers = Counter(d.model_id for d in drafts)
    assert len(makers) >= 2, f"one worker did everything: {makers}"
    assert set(makers) <= {f"fake-llm:{w.pid}" for w in workers}


def test_a_killed_workers_job_is_finished_by_another_worker_after_its_lease(db, pg_settings, tmp_path):
    submission = submit_notes(db, pg_settings, NOTES, CaseContext())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DEBRIEF_DATABASE_URL": pg_settings.database_url}
    doomed = subprocess.Popen(  # drafts for ten minutes under a 2-second lease
        [sys.executable, "-m", "tests.support.crash_worker", str(pg_settings.data_dir), submission.job_id, "drafting"],
        cwd=ROOT, env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while (p := job_progress(db, submission.job_id)).stage != Stage.drafting or p.status != JobStatus.running:
            assert time.monotonic() < deadline, p
            time.sleep(0.2)
    finally:
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
    assert job_progress(db, submission.job_id).status == JobStatus.running  # nobody has said it ended

    stop_file = tmp_path / "stop"
    rescuer = start_fake_worker(pg_settings.data_dir, pg_settings.database_url, stop_file, delay=0)
    try:
        _wait_until_done(db, [submission.job_id], timeout=60)
    finally:
        stop_file.touch()
        rescuer.wait(30)
    assert job_progress(db, submission.job_id).attempts == 2
    with db.session() as session:
        assert session.scalars(select(Draft.model_id)).all() == [f"fake-llm:{rescuer.pid}"]
        assert session.scalar(select(func.count()).select_from(Transcript)) == 1


def test_intakes_at_the_same_moment_on_postgres_each_get_their_own_reference(db, pg_settings, monkeypatch):
    import threading

    from assistant.cases import find_point

    references, errors = [], []
    start = threading.Barrier(12)

    def hand_in(n: int) -> None:
        try:
            start.wait()
            references.append(submit_notes(db, pg_settings, notes(n), CaseContext(sector=Sector.hospital)).reference)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=hand_in, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    year = references[0].split("-")[1]
    assert sorted(references) == [f"UTH-{year}-{n:04d}" for n in range(1, 13)]

    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    case = submit_notes(db, pg_settings, notes(99), CaseContext(sector=Sector.hospital))
    assert run_job(db, fake_components(pg_settings), case.job_id).status == JobStatus.done
    with db.session() as session:
        point = find_point(session, f"{case.reference}/1")
        assert point is not None and point.case_id == case.case_id
