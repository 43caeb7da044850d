"""A recording lives until the team confirms its transcript or DEBRIEF_RECORDING_KEEP_HOURS pass, unless the
team consented to keeping it; consent, confirmation and each deletion are audited. Time is simulated by
passing ``now``; the store is real SQLite and the recording a real WAV."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import select

from assistant.audit import events_for_case
from assistant.auth import Role, add_user
from assistant.cases import correction_view
from assistant.errors import InvalidInput
from assistant.intake import confirm_transcript, submit_notes, submit_recording
from assistant.jobs import Components, Worker, pipeline, run_job
from assistant.jobs.recordings import purge_expired_audio
from assistant.models import CaseContext, JobStatus
from assistant.store.tables import AudioFile, utcnow
from tests.support import word_recording
from tests.support.fakes import FakeChat, FakePseudonymiser, fake_draft
from tests.support.word_recording import UnsureTranscriber


@pytest.fixture
def rita(db):
    return add_user(db, "rita", Role.reporter, "korrekt-hest-batteri")


@pytest.fixture
def components(settings, monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    return Components(settings, transcriber_=UnsureTranscriber(), pseudonymiser_=FakePseudonymiser(),
                      chat_=FakeChat())


def transcribed(db, settings, components, rita, tmp_path, *, keep_audio: bool = False) -> str:
    submission = submit_recording(db, settings, word_recording.recording(tmp_path), CaseContext(keep_audio=keep_audio),
                                  actor=rita)
    assert run_job(db, components, submission.job_id).status == JobStatus.done
    return submission.case_id


def on_disk(settings) -> list:
    return sorted(settings.audio_dir.glob("*")) if settings.audio_dir.exists() else []


def actions(db, case_id: str) -> list[tuple[str, dict | None]]:
    return [(e["action"], e["after"]) for e in events_for_case(db, case_id)
            if e["action"] in ("recording_consent", "confirm_transcript", "recording_deleted")]


def test_the_recording_stays_after_transcription_and_goes_when_the_team_confirms(db, settings, components, rita,
                                                                                 tmp_path):
    case_id = transcribed(db, settings, components, rita, tmp_path)
    assert len(on_disk(settings)) == 1, "held so the team can hear its uncertain words"
    assert correction_view(db, rita, case_id, 0.5).recording

    done = confirm_transcript(db, settings, rita, case_id)

    assert done.recording == "deleted" and not done.already
    assert on_disk(settings) == []
    with db.session() as session:
        row = session.scalar(select(AudioFile).where(AudioFile.case_id == case_id))
        assert row.deleted_at is not None and row.sha256  # the row stays, so a second upload is still known
    view = correction_view(db, rita, case_id, 0.5)
    assert view.confirmed and not view.recording
    assert actions(db, case_id) == [("recording_consent", {"keep_audio": False}),
                                    ("confirm_transcript", {"recording": "deleted"}),
                                    ("recording_deleted", {"reason": "transcript_confirmed", "seconds": 12.0})]


def test_confirming_twice_records_it_once(db, settings, components, rita, tmp_path):
    case_id = transcribed(db, settings, components, rita, tmp_path)
    confirm_transcript(db, settings, rita, case_id)
    again = confirm_transcript(db, settings, rita, case_id)
    assert again.already and again.recording == "none"
    assert [a for a, _ in actions(db, case_id)].count("confirm_transcript") == 1


def test_a_recording_kept_with_consent_survives_the_confirmation(db, settings, components, rita, tmp_path):
    case_id = transcribed(db, settings, components, rita, tmp_path, keep_audio=True)

    done = confirm_transcript(db, settings, rita, case_id)

    assert done.recording == "kept" and len(on_disk(settings)) == 1
    assert actions(db, case_id) == [("recording_consent", {"keep_audio": True}),
                                    ("confirm_transcript", {"recording": "kept"})]
    # It still goes when its consented days are up.
    later = utcnow() + dt.timedelta(days=settings.keep_audio_days, hours=1)
    assert purge_expired_audio(db, settings, now=later) == 1 and on_disk(settings) == []
    assert actions(db, case_id)[-1] == ("recording_deleted", {"reason": "consent_ended", "seconds": 12.0})


def test_an_unconfirmed_recording_goes_when_its_hours_are_up_and_not_before(db, settings, components, rita,
                                                                           tmp_path):
    case_id = transcribed(db, settings, components, rita, tmp_path)
    transcribed_at = utcnow()
    hours = settings.recording_keep_hours
    assert hours == 24

    assert purge_expired_audio(db, settings, now=transcribed_at + dt.timedelta(hours=hours - 1)) == 0
    assert len(on_disk(settings)) == 1

    assert purge_expired_audio(db, settings, now=transcribed_at + dt.timedelta(hours=hours, minutes=1)) == 1
    assert on_disk(settings) == []
    # Running it again (another worker, the next round) deletes nothing and records nothing more.
    assert purge_expired_audio(db, settings, now=transcribed_at + dt.timedelta(hours=hours + 2)) == 0
    assert actions(db, case_id)[1:] == [("recording_deleted", {"reason": "time_limit", "seconds": 12.0})]


def test_the_worker_deletes_recordings_whose_time_is_up_when_it_starts(db, settings, components, rita, tmp_path):
    case_id = transcribed(db, settings, components, rita, tmp_path)
    with db.session() as session:
        session.scalar(select(AudioFile)).delete_after = utcnow() - dt.timedelta(minutes=1)
    worker = Worker(db, components, poll_seconds=0.1).start()
    try:
        deadline = time.monotonic() + 20
        while on_disk(settings) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop(timeout=10)
    assert on_disk(settings) == []
    assert actions(db, case_id)[-1][0] == "recording_deleted"


def test_typed_notes_have_no_recording_to_confirm_away(db, settings, components, rita):
    submission = submit_notes(db, settings, "Vi gav insulin ved vagtskiftet.", CaseContext(), actor=rita)
    with pytest.raises(InvalidInput):
        confirm_transcript(db, settings, rita, submission.case_id)  # nothing transcribed yet
    assert run_job(db, components, submission.job_id).status == JobStatus.done
    assert confirm_transcript(db, settings, rita, submission.case_id).recording == "none"
