"""The ingest pipeline's orchestration: intake, staged commits, failures, retries and duplicates."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from assistant.auth import Role, add_user
from assistant.cases import load_case
from assistant.errors import InvalidInput
from assistant.intake import submit_guide_notes, submit_notes
from assistant.jobs import Components, Worker, job_progress, pipeline, retry_job, run_job
from assistant.models import CaseContext, IsbarPart, JobStatus, Sector, Stage
from assistant.store.tables import Case, Draft, Job, PseudonymEntry, Transcript
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft

NOTES = "Jens fik dobbelt dosis insulin ved vagtskiftet.\n\nMette opdagede det ved dobbeltkontrollen og reagerede hurtigt."


@pytest.fixture
def components(settings, monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    return Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(), chat_=FakeChat())


def count(db, table) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(table))


def test_typed_notes_become_a_pseudonymised_draft_awaiting_review(db, settings, components):
    submission = submit_notes(db, settings, NOTES, CaseContext(sector=Sector.municipality, unit="Hjemmeplejen Nord"))
    result = run_job(db, components, submission.job_id)
    assert result.status == JobStatus.done
    view = load_case(db, submission.case_id)
    assert view.status == "awaiting_review"
    assert [s.text for s in view.segments][0].startswith("[PERSON_1] fik dobbelt dosis")
    assert all("Jens" not in s.text and "Mette" not in s.text for s in view.segments)
    assert view.learning_points[0].category == "medicin"
    assert view.prompt == "fake@0" and view.draft_model == "fake-llm"
    with db.session() as session:
        job = session.get(Job, submission.job_id)
        assert job.pending_segments is None, "raw notes must not linger after pseudonymisation"


def test_pseudonym_map_is_stored_apart_from_the_transcript(db, settings, components):
    submission = submit_notes(db, settings, NOTES, CaseContext())
    run_job(db, components, submission.job_id)
    with db.session() as session:
        originals = {e.original for e in session.scalars(select(PseudonymEntry))}
    assert originals == {"Jens", "Mette"}


def test_receipt_code_is_long_and_only_its_hash_is_stored(db, settings):
    submission = submit_notes(db, settings, NOTES, CaseContext())
    assert len(submission.receipt_code.replace("-", "")) >= 26
    with db.session() as session:
        case = session.get(Case, submission.case_id)
        assert submission.receipt_code not in case.receipt_hash


def test_duplicate_notes_return_the_existing_case(db, settings):
    first = submit_notes(db, settings, NOTES, CaseContext())
    second = submit_notes(db, settings, NOTES, CaseContext())
    assert second.duplicate and second.case_id == first.case_id and second.receipt_code is None
    assert count(db, Case) == 1


@pytest.mark.parametrize("text", ["", "   \n\t ", "\x00\x01\x02"])
def test_empty_notes_are_refused_and_nothing_is_stored(db, settings, text):
    with pytest.raises(InvalidInput) as error:
        submit_notes(db, settings, text, CaseContext())
    assert error.value.key == "input.empty_notes"
    assert "tomme" in error.value.message("da") and "empty" in error.value.message("en")
    assert count(db, Case) == 0 and count(db, Job) == 0


def test_huge_notes_are_refused(db, settings):
    with pytest.raises(InvalidInput) as error:
        submit_notes(db, settings, "x" * 300_000, CaseContext())
    assert error.value.key == "input.notes_too_long"
    assert count(db, Case) == 0


def test_guide_notes_map_straight_to_isbar(db, settings, components):
    notes = [("Stue 4, Jens, 82 år", IsbarPart.identifikation), ("Faldt på badeværelset", IsbarPart.situation),
             ("Godt samarbejde med hjemmeplejen", IsbarPart.analyse)]
    facilitator = add_user(db, "frida", Role.facilitator, "korrekt-hest-batteri")
    submission = submit_guide_notes(db, settings, facilitator, notes, CaseContext(), guide_id="hot_debrief")
    run_job(db, components, submission.job_id)
    view = load_case(db, submission.case_id)
    sections = {s.part: s for s in view.isbar}
    assert sections[IsbarPart.identifikation].text == "Stue 4, [PERSON_1], 82 år"
    assert sections[IsbarPart.identifikation].segment_indices == [0]
    assert sections[IsbarPart.raad].text == ""


class ExplodingChat(FakeChat):
    pass


def test_a_failed_draft_keeps_the_transcript_and_can_be_retried(db, settings, components, monkeypatch):
    from assistant.errors import DraftInvalid

    def broken(*args, **kwargs):
        raise DraftInvalid("draft.invalid", attempts=3, reason="ugyldig JSON")

    monkeypatch.setattr(pipeline, "draft_case", broken)
    submission = submit_notes(db, settings, NOTES, CaseContext())
    failed = run_job(db, components, submission.job_id)
    assert failed.status == JobStatus.failed and failed.stage == Stage.drafting
    assert "ugyldig JSON" in failed.error and failed.error_key == "draft.invalid"
    assert count(db, Transcript) == 1 and count(db, Draft) == 0
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    retry_job(db, submission.job_id)
    done = run_job(db, components, submission.job_id)
    assert done.status == JobStatus.done
    assert count(db, Transcript) == 1 and count(db, Draft) == 1


class QuotingPseudonymiser:
    """Breaks like a parser that quotes its input, before anything is pseudonymised."""

    def pseudonymise_many(self, texts, known=None):
        raise ValueError(f"cannot parse {texts[0]!r}")


class QuotingTranscriber(FakeTranscriber):
    """Breaks like a decoder that quotes what it heard."""

    def __init__(self, heard: str):
        super().__init__()
        self.heard = heard

    def transcribe(self, audio, progress=None):
        raise RuntimeError(f"decoder gave up after: {self.heard}")


@pytest.mark.parametrize("breaks", ["pseudonymiser", "transcriber"])
def test_a_failed_jobs_stored_error_never_quotes_the_raw_text(db, settings, components, tmp_path, caplog, breaks):
    from assistant.intake import submit_recording
    from tests.support import audio_factory

    raw = "Jens Hansen 010190-1234 fik insulin"
    if breaks == "pseudonymiser":
        components.pseudonymiser_ = QuotingPseudonymiser()
        submission = submit_notes(db, settings, f"{raw} ved vagtskiftet.\n\nMette så det.", CaseContext())
    else:
        components.transcriber_ = QuotingTranscriber(raw)
        submission = submit_recording(db, settings, audio_factory.tone(tmp_path / "a.wav", seconds=2.0),
                                      CaseContext())
    failed = run_job(db, components, submission.job_id)
    assert failed.status == JobStatus.failed and failed.error_key == "error.unexpected"
    for fragment in ("Jens", "Hansen", "010190", "insulin"):
        assert fragment not in failed.error and fragment not in caplog.text
    assert ("ValueError" if breaks == "pseudonymiser" else "RuntimeError") in failed.error
    assert "pseudonymiseret" in failed.error  # says why the message itself is withheld


def test_a_failure_after_pseudonymisation_keeps_its_message_for_the_administrator(db, settings, components,
                                                                                   monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the server closed the connection")

    monkeypatch.setattr(pipeline, "draft_case", broken)
    submission = submit_notes(db, settings, NOTES, CaseContext())
    failed = run_job(db, components, submission.job_id)
    assert failed.error == "RuntimeError: the server closed the connection"


def test_retry_is_refused_for_a_job_that_did_not_fail(db, settings, components):
    submission = submit_notes(db, settings, NOTES, CaseContext())
    run_job(db, components, submission.job_id)
    with pytest.raises(InvalidInput):
        retry_job(db, submission.job_id)


def test_worker_processes_a_queue_in_order_without_duplicates(db, settings, components):
    submissions = [submit_notes(db, settings, f"Notat nummer {i} om et fald.", CaseContext()) for i in range(20)]
    worker = Worker(db, components)
    assert worker.run_pending() == 20
    with db.session() as session:
        jobs = session.scalars(select(Job).order_by(Job.finished_at)).all()
        assert [j.id for j in jobs] == [s.job_id for s in submissions]
        assert all(j.status == "done" and j.attempts == 1 for j in jobs)
    assert count(db, Draft) == 20


def test_a_job_held_by_a_live_worker_is_not_run_twice(db, settings, components):
    from assistant.jobs import claim_job

    submission = submit_notes(db, settings, NOTES, CaseContext())
    assert claim_job(db, submission.job_id, "worker-a")
    assert not claim_job(db, submission.job_id, "worker-b")
    assert job_progress(db, submission.job_id).status == JobStatus.running
