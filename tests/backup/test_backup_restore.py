"""Backup and restore lose nothing: a backup taken while the app runs a job restores into an empty data folder with
the same counts, search results, recordings and audit chain, and the job finishes there; a restore refuses a
folder that is not empty and an archive that is damaged, in the user's language, and leaves nothing behind."""

from __future__ import annotations

import tarfile
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from typer.testing import CliRunner

from assistant.audit import audit_chain
from assistant.auth import Actor, Role
from assistant.backup import backup, read_manifest, restore
from assistant.backup.manifest import MANIFEST_NAME, file_checksum
from assistant.cli import app as cli_app
from assistant.errors import ArchiveDamaged, BackupRefused
from assistant.intake import submit_notes, submit_recording
from assistant.jobs import Components, job_progress, pipeline, run_job
from assistant.models import CaseContext, JobStatus, Sector, Stage
from assistant.review import approve
from assistant.settings import Settings, get_settings
from assistant.store import open_database
from assistant.store.tables import AudioFile, LearningPoint
from tests.support import audio_factory
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft
from tests.support.hardening_app import CitingChat, serve_app
from vectorstore.index import LearningIndex

AGENT = Actor(user_id="a1", name="agent-anne", role=Role.learning_agent)
NOTES = [
    "Jens fik dobbelt dosis insulin ved vagtskiftet.\n\nVi opdagede det ved dobbeltkontrollen.",
    "Sondemad blev givet i den forkerte sonde.\n\nKollegaen stoppede det i tide.",
]
QUERIES = ["insulin ved vagtskifte", "sondemad i forkert sonde"]


def wait_for(predicate, timeout: float = 60, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def state(db) -> tuple[dict[str, int], int, str]:
    from assistant.backup.snapshot import read_state

    with db.engine.connect() as connection:
        found, _ = read_state(connection, "sqlite")
    return found.counts, found.audit_events, found.audit_chain


def search(index, query: str) -> list[tuple[str, float]]:
    return [(hit.learning_point_id, round(hit.score, 5)) for hit in index.search(query, k=5)]


def test_a_backup_taken_while_the_app_runs_a_job_restores_everything_and_the_job_finishes(tmp_path):
    chat = CitingChat()
    with serve_app(tmp_path / "live", chat=chat) as running:
        runtime, settings = running.runtime, running.runtime.settings
        context = CaseContext(sector=Sector.hospital, unit="Akutmodtagelsen")
        for notes in NOTES:
            job_id = submit_notes(runtime.db, settings, notes, context).job_id
            runtime.start_worker().wake()
            wait_for(lambda j=job_id: job_progress(runtime.db, j).status == JobStatus.done, what="a drafted case")
        with runtime.db.session() as session:
            point_ids = session.scalars(select(LearningPoint.id)).all()
        for point_id in point_ids:
            approve(runtime.db, runtime.index, AGENT, point_id, visibility="public")
        kept = submit_recording(runtime.db, settings, audio_factory.tone(tmp_path / "kept.wav", seconds=2.0),
                                context.model_copy(update={"keep_audio": True}))
        wait_for(lambda: job_progress(runtime.db, kept.job_id).status == JobStatus.done, what="the recording")

        # A job in flight: drafting takes a few seconds, and the backup is taken meanwhile.
        chat.delay = 4.0
        in_flight = submit_notes(runtime.db, settings, "Pumpen alarmerede.\n\nAlarmen blev overhørt.", context)
        runtime.start_worker().wake()
        wait_for(lambda: job_progress(runtime.db, in_flight.job_id).stage == Stage.drafting, what="drafting")
        manifest = backup(settings, tmp_path / "debrief-backup.tar.gz", db=runtime.db)
        assert job_progress(runtime.db, in_flight.job_id).status == JobStatus.running  # still in flight

        live_results = {query: search(runtime.index, query) for query in QUERIES}
        _, live_events, live_chain = state(runtime.db)
        wait_for(lambda: job_progress(runtime.db, in_flight.job_id).status == JobStatus.done, what="the live job")

    assert manifest.counts["cases"] == 4 and manifest.approved_points == 2
    assert manifest.counts["learning_points"] == 3  # two approved, one of the recording; none yet of the job
    target = Settings(data_dir=tmp_path / "restored", cpu_threads=2)
    report = restore(target, tmp_path / "debrief-backup.tar.gz")

    restored_db = open_database(target)
    assert report.counts == manifest.counts == state(restored_db)[0]
    assert report.indexed_points == 2 and report.requeued_jobs == 1 and report.recordings == 1
    # The same audit chain, still append-only.
    assert state(restored_db)[1:] == (live_events, live_chain) == (manifest.audit_events, manifest.audit_chain)
    with pytest.raises(DatabaseError), restored_db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events"))
    # The same search results, point for point and score for score.
    restored_index = LearningIndex(target)
    assert all(live_results.values())
    assert {query: search(restored_index, query) for query in QUERIES} == live_results
    # The kept recording, byte for byte.
    with restored_db.session() as session:
        recording = session.query(AudioFile).filter_by(case_id=kept.case_id).one()
    assert file_checksum(target.audio_dir / recording.stored_name) == recording.sha256

    # The job that was drafting resumes at its stored stage in the restored installation and finishes once.
    assert job_progress(restored_db, in_flight.job_id).status == JobStatus.queued
    original_draft = pipeline.draft_case
    pipeline.draft_case = fake_draft
    try:
        transcriber = FakeTranscriber()
        components = Components(target, transcriber_=transcriber, pseudonymiser_=FakePseudonymiser(),
                                chat_=FakeChat())
        assert run_job(restored_db, components, in_flight.job_id).status == JobStatus.done
    finally:
        pipeline.draft_case = original_draft
    assert transcriber.calls == 0


@pytest.fixture
def small_archive(settings, db, tmp_path) -> Path:
    """An archive of a store with one approved point and its audit event."""
    original_draft = pipeline.draft_case
    pipeline.draft_case = fake_draft
    try:
        components = Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(),
                                chat_=FakeChat())
        submission = submit_notes(db, settings, NOTES[0], CaseContext(sector=Sector.hospital))
        run_job(db, components, submission.job_id)
    finally:
        pipeline.draft_case = original_draft
    with db.session() as session:
        point_id = session.scalar(select(LearningPoint.id))
    approve(db, LearningIndex(settings), AGENT, point_id)
    return backup(settings, tmp_path / "small.tar")


def run_cli(monkeypatch, data_dir: Path, language: str, *args: str):
    monkeypatch.setenv("DEBRIEF_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DEBRIEF_UI_LANGUAGE", language)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, list(args))
    finally:
        get_settings.cache_clear()
    return result.exit_code, " ".join(result.output.split())  # as one line, however the console wrapped it


def rewrite(archive: Path, out: Path, change) -> Path:
    """A copy of ``archive`` with ``change(name, bytes) -> bytes | None`` applied to each member (None drops it)."""
    import io

    with tarfile.open(archive) as source, tarfile.open(out, "w") as target:
        for member in source.getmembers():
            data = change(member.name, source.extractfile(member).read())
            if data is None:
                continue
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    return out


def test_restore_refuses_a_data_folder_that_is_not_empty_and_changes_nothing_there(small_archive, tmp_path,
                                                                                    monkeypatch):
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    code, output = run_cli(monkeypatch, occupied, "da", "restore", str(tmp_path / "small.tar"))
    assert code == 2
    assert f"Datamappen {occupied} er ikke tom" in output and "Traceback" not in output
    assert [p.name for p in occupied.iterdir()] == ["notes.txt"]
    assert "is not empty" in run_cli(monkeypatch, occupied, "en", "restore", str(tmp_path / "small.tar"))[1]


def flip_a_byte_in_the_store(name: str, data: bytes) -> bytes:
    if name.startswith("store/"):
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
    return data


@pytest.mark.parametrize("damage, message", [
    (lambda archive, out: rewrite(archive, out, flip_a_byte_in_the_store), "does not have the checksum"),
    (lambda archive, out: rewrite(archive, out, lambda n, d: None if n.startswith("store/") else d), "is missing"),
    (lambda archive, out: rewrite(archive, out, lambda n, d: None if n == MANIFEST_NAME else d), "manifest.json"),
    (lambda archive, out: out.write_bytes(archive.read_bytes()[:2048]) and out, "damaged"),
], ids=["flipped-byte", "store-missing", "manifest-missing", "truncated"])
def test_a_damaged_archive_is_refused_and_the_target_stays_empty(small_archive, tmp_path, monkeypatch, damage,
                                                                 message):
    damaged = damage(tmp_path / "small.tar", tmp_path / "damaged.tar")
    target = tmp_path / "target"
    with pytest.raises(ArchiveDamaged):
        restore(Settings(data_dir=target), damaged)
    assert not target.exists() or not any(target.iterdir())
    code, output = run_cli(monkeypatch, target, "en", "restore", str(damaged))
    assert code == 2 and message in output and "Nothing was restored" in output
    assert not any(target.iterdir())


def test_a_manifest_that_disagrees_with_the_store_is_refused_after_loading_and_the_load_is_removed(
        small_archive, tmp_path):
    import json

    def claim_another_event(name: str, data: bytes) -> bytes:
        if name != MANIFEST_NAME:
            return data
        manifest = json.loads(data)
        manifest["audit_events"] += 1
        return json.dumps(manifest).encode()

    forged = rewrite(tmp_path / "small.tar", tmp_path / "forged.tar", claim_another_event)
    target = tmp_path / "target"
    with pytest.raises(ArchiveDamaged) as refused:
        restore(Settings(data_dir=target), forged)
    assert refused.value.key == "backup.counts_differ"
    assert not any(target.iterdir())
    assert read_manifest(tmp_path / "small.tar").audit_events == small_archive.audit_events


def test_a_backup_never_overwrites_an_archive(small_archive, settings, tmp_path):
    before = (tmp_path / "small.tar").read_bytes()
    with pytest.raises(BackupRefused):
        backup(settings, tmp_path / "small.tar")
    assert (tmp_path / "small.tar").read_bytes() == before


def test_the_manifest_counts_what_the_store_holds_and_checksums_every_member(small_archive, db, tmp_path):
    counts, events, chain = state(db)
    assert small_archive.counts == counts and (small_archive.audit_events, small_archive.audit_chain) == (events, chain)
    assert small_archive.approved_points == 1 and small_archive.version == 1
    with tarfile.open(tmp_path / "small.tar") as archive:
        names = set(archive.getnames())
    assert names == {MANIFEST_NAME} | {f.name for f in small_archive.files}
    with db.engine.connect() as connection:
        assert audit_chain(connection) == (events, chain)


@pytest.mark.parametrize("field, value, key", [("version", 2, "backup.newer_format"),
                                                ("schema_revision", "9999", "backup.newer_schema")])
def test_an_archive_from_a_newer_debrief_is_refused_before_anything_is_written(small_archive, tmp_path, field, value,
                                                                               key):
    import json

    def from_the_future(name: str, data: bytes) -> bytes:
        if name != MANIFEST_NAME:
            return data
        return json.dumps(json.loads(data) | {field: value}).encode()

    newer = rewrite(tmp_path / "small.tar", tmp_path / "newer.tar", from_the_future)
    target = tmp_path / "target"
    with pytest.raises(BackupRefused) as refused:
        restore(Settings(data_dir=target), newer)
    assert refused.value.key == key and "Update Debrief" in refused.value.message("en")
    assert not any(target.iterdir())


def test_references_are_the_same_after_a_restore_and_the_count_goes_on(small_archive, db, tmp_path):
    from assistant.store.tables import Case

    def references(database) -> tuple[dict[str, str], dict[str, int]]:
        with database.session() as session:
            return (dict(session.execute(select(Case.id, Case.reference)).all()),
                    dict(session.execute(select(LearningPoint.id, LearningPoint.number)).all()))

    before = references(db)
    target = Settings(data_dir=tmp_path / "restored", cpu_threads=2)
    restore(target, tmp_path / "small.tar")
    restored_db = open_database(target)
    assert references(restored_db) == before
    reference = next(iter(before[0].values()))
    indexed = LearningIndex(target).metadata_by_id()
    assert [m["reference"] for m in indexed.values()] == [f"{reference}/1"]  # the rebuilt index cites it too
    later = submit_notes(restored_db, target, NOTES[1], CaseContext(sector=Sector.hospital))
    assert later.reference == reference[:-4] + "0002"
