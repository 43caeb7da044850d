"""Hardening, faults (issue 6, cases 11-16): a bad model answer, a broken model file, a killed process, a lost
index, a full disk or a restart leave the record store consistent, say what happened, and can be resumed."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from sqlalchemy import event, func, select, text

from assistant.auth import Actor, Role
from assistant.cases import load_case
from assistant.indexing import check_index, recover_index
from assistant.intake import submission as intake
from assistant.intake import submit_notes, submit_recording
from assistant.jobs import Components, pipeline, retry_job, run_job
from assistant.llm import ChatReply
from assistant.model_cache import whisper_base_dir
from assistant.models import CaseContext, JobStatus, Stage
from assistant.review import approve
from assistant.settings import Settings
from assistant.store import open_database
from assistant.store.tables import AuditEvent, Case, Draft, Job, LearningPoint, PseudonymEntry, Segment, Transcript
from tests.support import audio_factory
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft
from tests.support.servers import free_port, stop, wait_for_http
from vectorstore.index import LearningIndex

ROOT = Path(__file__).resolve().parents[2]
AGENT = Actor(user_id="a1", name="agent-anne", role=Role.learning_agent)
NOTES = ("Jens fik dobbelt dosis insulin ved vagtskiftet.\n\n"
         "Vi opdagede fejlen ved dobbeltkontrollen af medicinskemaet.\n\n"
         "Det gik godt, at vi talte åbent om det bagefter.")


def count(db, table) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(table))


def subprocess_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "DEBRIEF_DATA_DIR": str(settings.data_dir),
            "DEBRIEF_CPU_THREADS": "2", "ANONYMIZED_TELEMETRY": "False"}


# -- 11. the model answers badly ---------------------------------------------------------------------------------


def good_answer(**point_changes) -> str:
    """A schema-valid draft for NOTES (quotes are what the pseudonymised lines say)."""
    point = {"title": "Dobbeltkontrol fanger forkert insulindosis", "category": "medicin",
             "evidence": [{"line": 1, "quote": "opdagede fejlen ved dobbeltkontrollen"}],
             "what": "En patient fik dobbelt dosis insulin ved vagtskiftet.", "factors": ["travlhed ved vagtskifte"],
             "went_well": ["dobbeltkontrollen virkede"], "actions": [{"do": "Fast dobbeltkontrol", "measure": "Audit"}],
             "severity": "mild", "safety_ii": False, **point_changes}
    isbar = {part: {"text": f"{part} tekst", "lines": [0]}
             for part in ("identifikation", "situation", "baggrund", "analyse", "raad")}
    return json.dumps({"isbar": isbar, "points": [point]}, ensure_ascii=False)


BAD_ANSWERS = {
    "invalid-json": ('{"isbar": {"identifikation": tekst uden anførselstegn', "stop"),
    "truncated-json": (good_answer()[:-60], "length"),
    "wrong-enum": (good_answer(severity="katastrofal"), "stop"),
    "empty": ("", "stop"),
}


class ScriptedChat:
    """Answers drafting calls from a script (the last reply repeats); focused category calls keep the draft's."""

    model_id = "scripted-llm"

    def __init__(self, *replies: tuple[str, str]):
        self.replies = list(replies)
        self.drafting_calls = 0

    def complete_json(self, messages, schema, max_tokens) -> ChatReply:
        if "category" in schema.get("properties", {}):
            return ChatReply(text="{}", finish_reason="stop")
        self.drafting_calls += 1
        text, finish = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return ChatReply(text=text, finish_reason=finish, tokens_in=500, tokens_out=200)

    def stream(self, messages, max_tokens):
        yield from ()


@pytest.fixture
def settings(settings):
    """These faults are the rich path's (whole JSON drafts, validated and retried); the small-model path's own
    bad answers are in tests/drafting/test_small_model.py."""
    return settings.model_copy(update={"llm_capability": "strong"})


def components_with(settings, chat) -> Components:
    return Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(), chat_=chat)


@pytest.mark.parametrize("bad", BAD_ANSWERS)
def test_a_bad_answer_is_retried_with_the_problem_and_a_good_second_answer_is_kept(db, settings, bad):
    chat = ScriptedChat(BAD_ANSWERS[bad], (good_answer(), "stop"))
    submission = submit_notes(db, settings, NOTES, CaseContext())
    result = run_job(db, components_with(settings, chat), submission.job_id)
    assert result.status == JobStatus.done and chat.drafting_calls == 2
    with db.session() as session:
        assert session.scalar(select(Draft.attempts)) == 2


@pytest.mark.parametrize("bad", BAD_ANSWERS)
def test_an_answer_that_stays_bad_fails_the_job_readably_and_a_retry_finishes_it(db, settings, bad):
    submission = submit_notes(db, settings, NOTES, CaseContext())
    broken = ScriptedChat(BAD_ANSWERS[bad])

    failed = run_job(db, components_with(settings, broken), submission.job_id)

    assert failed.status == JobStatus.failed and failed.stage == Stage.drafting and failed.error_key == "draft.invalid"
    assert broken.drafting_calls == settings.llm_max_retries + 1
    assert failed.error.startswith("AI-modellen lavede ikke et gyldigt udkast efter 3 forsøg (")
    assert failed.error.endswith("Jobbet kan startes igen.")
    assert count(db, Transcript) == 1 and count(db, Draft) == 0 and count(db, LearningPoint) == 0
    assert load_case(db, submission.case_id).status == "failed"

    retry_job(db, submission.job_id)
    done = run_job(db, components_with(settings, ScriptedChat((good_answer(), "stop"))), submission.job_id)
    assert done.status == JobStatus.done and done.attempts == 2
    assert count(db, Transcript) == 1 and count(db, Draft) == 1 and count(db, LearningPoint) == 1


# -- 12. a model missing or damaged ------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_missing_or_corrupt_llm_file_fails_the_job_as_model_unavailable_and_a_retry_recovers(db, settings, tmp_path,
                                                                                             damage):
    gguf = tmp_path / "model.gguf"
    if damage == "corrupt":
        gguf.write_bytes(b"GGUF" + os.urandom(4096))
    settings.llm_model_path = gguf
    components = Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser())
    submission = submit_notes(db, settings, NOTES, CaseContext())

    failed = run_job(db, components, submission.job_id)

    assert failed.status == JobStatus.failed and failed.error_key == "model.unavailable"
    assert str(gguf) in failed.error and "model" in failed.error.lower()
    assert count(db, Transcript) == 1 and count(db, Draft) == 0  # the transcript waits for a working model
    components.chat_ = ScriptedChat((good_answer(), "stop"))
    retry_job(db, submission.job_id)
    assert run_job(db, components, submission.job_id).status == JobStatus.done


def test_a_damaged_speech_model_in_the_cache_is_repaired_and_the_job_still_runs(db, tmp_path, monkeypatch):
    """Flipped bytes in the cached Whisper model: the checksum catches it, the cache re-assembles it from the
    installed parts, and the recording is transcribed by the real model."""
    settings = Settings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", cpu_threads=2, whisper_language="en")
    db = open_database(settings)
    model = whisper_base_dir(settings) / "model.bin"
    with model.open("r+b") as fh:
        fh.seek(model.stat().st_size // 2)
        fh.write(b"\x00" * 64)
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    speech = audio_factory.speak("The patient received the wrong dose at the shift change.", tmp_path / "s.wav")
    submission = submit_recording(db, settings, speech, CaseContext())

    result = run_job(db, Components(settings, pseudonymiser_=FakePseudonymiser(), chat_=FakeChat()), submission.job_id)

    assert result.status == JobStatus.done, result.error
    assert "dose" in " ".join(s.text for s in load_case(db, submission.case_id).segments)


# -- 13. killed mid-way: no half-written case, no orphan index entry ----------------------------------------------


def seed_in_another_process(settings: Settings) -> dict:
    done = subprocess.run([sys.executable, "-m", "tests.support.hardening_worker", "seed", str(settings.data_dir)],
                          cwd=ROOT, env=subprocess_env(settings), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def kill_during_approval(settings: Settings, point_id: str) -> None:
    """Approve in another process and kill it after the index was written, before the store committed."""
    worker = subprocess.Popen([sys.executable, "-m", "tests.support.hardening_worker", "hang-in-approval",
                               str(settings.data_dir), point_id], cwd=ROOT, env=subprocess_env(settings),
                              stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "index-written"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)


def test_a_process_killed_between_index_write_and_commit_leaves_no_orphan_after_restart(settings):
    seeded = seed_in_another_process(settings)
    point_id = seeded["interrupted"]["point_id"]
    kill_during_approval(settings, point_id)

    db = open_database(settings)
    index = LearningIndex(settings)
    with db.session() as session:
        assert session.get(LearningPoint, point_id).status == "draft"  # the store never saw the approval
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.learning_point_id == point_id)) == 0
    assert check_index(db, index).orphaned == [point_id]

    repaired = recover_index(db, index)  # what `debrief serve` does before serving

    assert repaired.orphaned == [point_id]
    assert check_index(db, index).consistent
    assert point_id not in {h.learning_point_id for h in index.search("fald om natten på badeværelset", k=10)}
    assert seeded["public"]["point_id"] in index.ids()


# -- 14. the index deleted or out of step ------------------------------------------------------------------------


def debrief(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], cwd=ROOT, env=subprocess_env(settings),
                          capture_output=True, text=True, timeout=300)


def test_debrief_index_rebuild_restores_a_deleted_or_drifted_index(settings, db, monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    components = components_with(settings, FakeChat())
    index = LearningIndex(settings)
    points = []
    for n, visibility in enumerate(["public", "staff", "staff"]):
        submission = submit_notes(db, settings, f"Sag {n}: Jens fik forkert medicin ved vagtskiftet.", CaseContext())
        run_job(db, components, submission.job_id)
        with db.session() as session:
            points.append(session.scalar(select(LearningPoint.id).where(LearningPoint.case_id == submission.case_id)))
        approve(db, index, AGENT, points[-1], visibility=visibility)
    # Drift: one entry the store does not approve, one the index lacks, one whose visibility changed.
    index.delete([points[0]])
    with db.session() as session:
        session.get(LearningPoint, points[1]).visibility = "public"
        session.get(LearningPoint, points[2]).status = "rejected"
    drift = check_index(db, index)
    assert (drift.missing, drift.stale, drift.orphaned) == ([points[0]], [points[1]], [points[2]])
    assert debrief(settings, "index", "check").returncode == 1

    rebuilt = debrief(settings, "index", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "2 learning points indexed; differences: 0 missing, 0 orphaned, 0 stale" in rebuilt.stdout

    shutil.rmtree(settings.chroma_path)  # the whole index folder gone
    assert debrief(settings, "index", "rebuild").returncode == 0
    checked = debrief(settings, "index", "check")
    assert checked.returncode == 0 and "missing=[] orphaned=[] stale=[]" in checked.stdout


# -- 15. the disk fills up ---------------------------------------------------------------------------------------


def test_a_full_disk_while_storing_a_recording_leaves_no_file_and_no_case(db, settings, tmp_path, monkeypatch):
    upload = audio_factory.tone(tmp_path / "a.wav", seconds=3.0)

    def half_then_full(src, dst, *args, **kwargs):
        Path(dst).write_bytes(Path(src).read_bytes()[:5000])
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(intake.shutil, "copyfile", half_then_full)
    with pytest.raises(OSError):
        submit_recording(db, settings, upload, CaseContext())
    assert list(settings.audio_dir.iterdir()) == [] and count(db, Case) == 0 and count(db, Job) == 0

    monkeypatch.undo()
    assert submit_recording(db, settings, upload, CaseContext()).case_id  # space back: it goes through


def test_the_app_says_the_disk_is_full_in_the_users_language():
    from ui.context import friendly_errors

    @friendly_errors
    def store(language):
        raise OSError(errno.ENOSPC, "No space left on device")

    for language, words in (("da", "ikke mere plads"), ("en", "disk is full")):
        with pytest.raises(Exception) as raised:
            store(language)
        assert words in str(raised.value) and "Errno" not in str(raised.value)


def fill_database(db):
    """From now on the SQLite file cannot grow by a single page ("database or disk is full"); returns the undo."""
    with db.engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar()

    def cap(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    event.listen(db.engine, "connect", cap)
    db.engine.dispose()  # every connection from now on is capped

    def make_room() -> None:
        event.remove(db.engine, "connect", cap)
        db.engine.dispose()

    return make_room


@contextmanager
def database_full(db):
    make_room = fill_database(db)
    try:
        yield
    finally:
        make_room()


def test_a_full_database_during_a_job_corrupts_nothing_and_the_job_resumes_when_space_returns(db, settings,
                                                                                            monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    long_notes = "\n\n".join(f"Afsnit {i}: Jens fik insulin, og vi talte om vagtskiftet. " + "ord " * 100
                             for i in range(30))
    submission = submit_notes(db, settings, long_notes, CaseContext())
    with database_full(db):  # full before the job starts: it is not even taken, and says nothing wrong
        assert run_job(db, components_with(settings, FakeChat()), submission.job_id).status == JobStatus.queued
        with pytest.raises(Exception, match="database or disk is full"):
            submit_notes(db, settings, long_notes.replace("Afsnit", "Del"), CaseContext())
    make_room = []

    class DiskFillsUpMeanwhile(FakePseudonymiser):
        """The disk fills while the transcript is pseudonymised; the result needs more room than the input
        it replaces (else SQLite would reuse the pages the waiting notes free)."""

        def pseudonymise_many(self, texts, known=None):
            make_room.append(fill_database(db))
            out, entities = super().pseudonymise_many(texts, known)
            return [text + " (pseudonymiseret)" * 40 for text in out], entities

    components = Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=DiskFillsUpMeanwhile(),
                            chat_=FakeChat())
    stuck = run_job(db, components, submission.job_id)
    make_room.pop()()
    components.pseudonymiser_ = FakePseudonymiser()

    # The transcript could not be written; the failure (a small update) could: nothing half-written, and the
    # job says why in the user's words and waits with its input for a retry.
    assert stuck.status == JobStatus.failed and stuck.stage == Stage.pseudonymisation
    assert stuck.error_key == "storage.full" and "ikke mere plads" in stuck.error
    assert count(db, Transcript) == 0 and count(db, Segment) == 0 and count(db, PseudonymEntry) == 0
    assert count(db, Case) == 1
    with db.session() as session:
        assert len(session.get(Job, submission.job_id).pending_segments) == 30  # the input still waits
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    retry_job(db, submission.job_id)
    done = run_job(db, components, submission.job_id)
    assert done.status == JobStatus.done and done.attempts == 2
    assert count(db, Transcript) == 1 and count(db, Segment) == 30 and count(db, Draft) == 1


def test_a_full_disk_during_a_job_is_recorded_as_such_and_can_be_retried(db, settings, monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)

    class FullDiskTranscriber(FakeTranscriber):
        def transcribe(self, audio, progress=None):
            raise OSError(errno.ENOSPC, "No space left on device", "/tmp/whisper-features")

    recording = audio_factory.tone(settings.data_dir.parent / "a.wav", seconds=2.0)
    submission = submit_recording(db, settings, recording, CaseContext())
    components = Components(settings, transcriber_=FullDiskTranscriber(), pseudonymiser_=FakePseudonymiser(),
                            chat_=FakeChat())
    failed = run_job(db, components, submission.job_id)
    assert failed.status == JobStatus.failed and failed.error_key == "storage.full"
    assert "plads" in failed.error and count(db, Transcript) == 0
    assert len(list(settings.audio_dir.iterdir())) == 1  # a full disk is not bad input: the recording stays

    components.transcriber_ = FakeTranscriber()
    retry_job(db, submission.job_id)
    assert run_job(db, components, submission.job_id).status == JobStatus.done


def test_a_full_disk_while_writing_the_index_leaves_the_point_undecided(db, settings, monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    submission = submit_notes(db, settings, NOTES, CaseContext())
    run_job(db, components_with(settings, FakeChat()), submission.job_id)
    with db.session() as session:
        point_id = session.scalar(select(LearningPoint.id))
    index = LearningIndex(settings)
    monkeypatch.setattr(index._collection, "upsert",
                        lambda **kwargs: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))

    with pytest.raises(OSError):
        approve(db, index, AGENT, point_id, visibility="public")

    with db.session() as session:
        assert session.get(LearningPoint, point_id).status == "draft"
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    assert check_index(db, index).consistent and index.count() == 0


# -- 16. a restart keeps everything ------------------------------------------------------------------------------


def test_after_a_restart_cases_reviews_index_and_feedback_are_all_there(settings, tmp_path):
    """`debrief serve` started again on the data of an earlier run, one of whose approvals was killed half-way."""
    seeded = seed_in_another_process(settings)
    kill_during_approval(settings, seeded["interrupted"]["point_id"])
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--port", str(port)], cwd=ROOT,
                                  env=subprocess_env(settings), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/public/", server, timeout=120, log=log)
        agent = Client(url + "/", auth=("lars", "korrekt-hest-batteri"), verbose=False)
        _queue, cases = agent.predict("da", [], "", "", "", "", api_name="/review_queue")
        waiting = {seeded["waiting"]["case_id"], seeded["interrupted"]["case_id"]}
        assert {value for _label, value in cases["choices"]} == waiting
        shown, _points = agent.predict("da", seeded["public"]["case_id"], api_name="/open_case")
        assert "Sondemad blev givet i den forkerte sonde" in shown and "Godkendt" in shown

        anonymous = Client(url + "/public/", verbose=False)
        found = anonymous.predict("da", "sondemad i forkert sonde", api_name="/search_public")
        assert "Sondemad blev givet i den forkerte sonde" in found
        status = anonymous.predict("da", seeded["public"]["receipt"], api_name="/status_by_receipt")
        assert "Tak for jeres debriefing" in status
        reporter = Client(url + "/", auth=("rita", "korrekt-hest-batteri"), verbose=False)
        mine = reporter.predict("da", api_name="/my_cases")
        assert all(seeded[k]["reference"] in mine for k in seeded)  # the status page names cases by reference
        assert httpx.get(url + "/public/").status_code == 200
    finally:
        stop(server)

    db = open_database(settings)
    assert check_index(db, LearningIndex(settings)).consistent
    with db.session() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(e.action, e.actor) for e in events] == [("approve", "lars"), ("feedback_released", "lars")]
        assert events[0].note == "Godt fanget"
