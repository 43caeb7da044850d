"""A patient or relative tells about an event on the open page: the team's intake (pseudonymised before anything
is shared, a receipt shown once) with its own limits, a lower place in the job queue, and nothing public before a
learning agent approves. Real SQLite and the real pseudonymiser; fakes for the transcriber and the LLM."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from assistant.auth import PUBLIC
from assistant.errors import InvalidAudio, InvalidInput, TooManyRequests
from assistant.intake import PublicReportLimits, submit_notes, submit_public_report
from assistant.jobs import Components, pipeline, run_job
from assistant.jobs.runner import claim_next_job
from assistant.learning.public_counts import public_dashboard
from assistant.models import CaseContext, JobStatus
from assistant.store.tables import Case, Draft, Job, LearningPoint, Segment
from tests.support import audio_factory
from tests.support.fakes import FakeChat, FakeTranscriber, fake_draft

ACCOUNT = ("Min mor Karen Holm, cpr 010150-1234, fik den forkerte medicin på afdelingen om natten.\n\n"
           "Sygeplejersken opdagede det om morgenen og sagde det straks til os.")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limits(clock) -> PublicReportLimits:
    return PublicReportLimits(per_client_per_hour=2, per_hour=3, clock=clock)


def report(db, settings, limits, text=ACCOUNT, client="10.0.0.1", **kwargs):
    options = {"reporter_type": "relative", "consent": True, **kwargs}
    return submit_public_report(db, settings, limits, client, text=text, **options)


def count(db, table) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(table))


def test_a_relatives_account_becomes_a_relative_case_with_a_receipt(db, settings, limits):
    submission = report(db, settings, limits)

    assert submission.receipt_code and not submission.duplicate
    with db.session() as session:
        case = session.get(Case, submission.case_id)
        assert case.reporter_type == "relative"
        assert case.reporter_id is None
        assert not case.keep_audio


def test_staff_cases_are_staff_by_default(db, settings):
    submission = submit_notes(db, settings, "Vi glemte dobbeltkontrollen ved vagtskiftet.", CaseContext())
    with db.session() as session:
        assert session.get(Case, submission.case_id).reporter_type == "staff"


def test_cpr_numbers_and_names_in_an_account_are_never_stored_raw(db, settings, limits, monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    components = Components(settings, transcriber_=FakeTranscriber(), chat_=FakeChat())  # the real pseudonymiser
    submission = report(db, settings, limits)

    assert run_job(db, components, submission.job_id).status == JobStatus.done
    with db.session() as session:
        stored = [s.text for s in session.scalars(select(Segment))]
        stored += [str(d.isbar) for d in session.scalars(select(Draft))]
        stored += [p.what_happened for p in session.scalars(select(LearningPoint))]
        stored += [str(j.pending_segments) for j in session.scalars(select(Job))]
    everything = "\n".join(stored)
    assert "010150-1234" not in everything
    assert "Karen" not in everything and "Holm" not in everything
    assert "[CPR_1]" in everything and "[PERSON_1]" in everything


def test_nothing_from_an_account_is_public_before_a_learning_agent_approves(db, settings, limits, monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    components = Components(settings, transcriber_=FakeTranscriber(), chat_=FakeChat())
    submission = report(db, settings, limits)
    run_job(db, components, submission.job_id)

    with db.session() as session:
        points = session.scalars(select(LearningPoint).where(LearningPoint.case_id == submission.case_id)).all()
    assert points and all(p.status == "draft" and p.decided_by is None for p in points)
    assert public_dashboard(db, PUBLIC, settings.public_min_count).points == []


def test_too_long_text_is_refused_in_plain_words_and_nothing_is_stored(db, settings, limits):
    with pytest.raises(InvalidInput) as refused:
        report(db, settings, limits, text="a" * (settings.public_report_max_chars + 1))

    assert refused.value.key == "report.too_long"
    assert "Teksten er for lang" in refused.value.message("da")
    assert "The text is too long" in refused.value.message("en")
    assert count(db, Case) == 0 and count(db, Job) == 0


def test_too_large_recording_is_refused_and_nothing_is_stored(db, settings, limits, tmp_path):
    small = settings.model_copy(update={"public_report_audio": True, "public_report_max_upload_bytes": 10_000})
    recording = audio_factory.tone(tmp_path / "lang.wav", seconds=2)  # 64 kB of 16 kHz PCM

    with pytest.raises(InvalidAudio) as refused:
        submit_public_report(db, small, limits, "10.0.0.1", reporter_type="patient", consent=True,
                             recording=recording)

    assert refused.value.key == "audio.too_big"
    assert "Filen er for stor" in refused.value.message("da")
    assert count(db, Case) == 0
    assert not settings.audio_dir.exists() or not any(settings.audio_dir.iterdir())


def test_a_spoken_account_is_taken_like_the_teams_recordings(db, settings, limits, tmp_path):
    recording = audio_factory.tone(tmp_path / "fortaelling.wav", seconds=2)
    spoken = settings.model_copy(update={"public_report_audio": True})

    submission = submit_public_report(db, spoken, limits, "10.0.0.1", reporter_type="patient", consent=True,
                                      recording=recording)

    with db.session() as session:
        case = session.get(Case, submission.case_id)
        assert (case.reporter_type, case.source_kind, case.keep_audio) == ("patient", "audio", False)
        assert case.jobs[0].priority < 0


def test_a_recording_is_refused_while_spoken_accounts_are_off(db, settings, limits, tmp_path):
    recording = audio_factory.tone(tmp_path / "fortaelling.wav", seconds=2)

    with pytest.raises(InvalidInput) as refused:
        submit_public_report(db, settings, limits, "10.0.0.1", reporter_type="patient", consent=True,
                             recording=recording)

    assert refused.value.key == "report.audio_off"
    assert count(db, Case) == 0


def test_an_account_needs_who_is_telling_and_consent(db, settings, limits):
    with pytest.raises(InvalidInput) as no_consent:
        report(db, settings, limits, consent=False)
    with pytest.raises(InvalidInput) as staff_on_open_page:
        report(db, settings, limits, reporter_type="staff")

    assert no_consent.value.key == "report.consent_missing"
    assert staff_on_open_page.value.key == "report.who_missing"
    assert count(db, Case) == 0


def test_one_client_is_refused_after_its_hourly_limit_and_may_try_again_later(db, settings, limits, clock):
    report(db, settings, limits, text="Første fortælling om natten.")
    report(db, settings, limits, text="Anden fortælling om morgenen.")

    with pytest.raises(TooManyRequests) as refused:
        report(db, settings, limits, text="Tredje fortælling samme dag.")

    assert refused.value.key == "report.too_many_from_you"
    assert "Prøv igen om 60 min." in refused.value.message("da")
    assert count(db, Case) == 2
    clock.now += 3600
    report(db, settings, limits, text="Tredje fortælling samme dag.")
    assert count(db, Case) == 3


def test_everyone_together_is_refused_after_the_hourly_total(db, settings, limits):
    for number, client in enumerate(("10.0.0.1", "10.0.0.2", "10.0.0.3")):
        report(db, settings, limits, text=f"Fortælling nummer {number} fra en pårørende.", client=client)

    with pytest.raises(TooManyRequests) as refused:
        report(db, settings, limits, text="Endnu en fortælling.", client="10.0.0.4")

    assert refused.value.key == "report.too_many_now"
    assert "We are receiving many accounts right now" in refused.value.message("en")
    assert count(db, Case) == 3


def test_an_identical_account_is_never_handed_back_to_a_stranger(db, settings, limits):
    report(db, settings, limits)

    with pytest.raises(InvalidInput) as refused:
        report(db, settings, limits, client="10.0.0.9")

    assert refused.value.key == "case.already_received"
    assert count(db, Case) == 1


def test_staff_jobs_are_picked_before_waiting_public_reports(db, settings, limits):
    public = report(db, settings, limits)  # handed in first
    staff = submit_notes(db, settings, "Vi glemte dobbeltkontrollen ved vagtskiftet.", CaseContext())

    assert claim_next_job(db, "worker-1") == staff.job_id
    assert claim_next_job(db, "worker-1") == public.job_id


@pytest.mark.parametrize("text, key", [("Medicinen kom for sent. " * 10_000, "report.too_long"),
                                       ("\x00\x07\x1b", "report.empty")],
                         ids=["beyond-the-teams-limit", "only-control"])
def test_a_huge_or_unreadable_account_gets_the_open_pages_own_words(db, settings, limits, text, key):
    with pytest.raises(InvalidInput) as refused:
        report(db, settings, limits, text=text)

    assert refused.value.key == key  # not the team's notes message, which names a limit of 200 000 characters
    assert count(db, Case) == 0
