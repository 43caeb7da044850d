"""A case handed in as typed notes and drafted by the pipeline with the small fakes, as review tests start."""

from __future__ import annotations

from assistant.intake import submit_notes
from assistant.intake.submission import Submission
from assistant.jobs import Components, pipeline, run_job
from assistant.models import CaseContext, Sector
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft

NOTES = "Jens fik dobbelt dosis insulin ved vagtskiftet.\n\nMette opdagede det ved dobbeltkontrollen."


def hand_in_drafted(db, settings, monkeypatch, *, draft=fake_draft, reporter_id: str | None = None) -> Submission:
    """``NOTES`` handed in (by ``reporter_id`` when given) and run through the pipeline with ``draft``."""
    monkeypatch.setattr(pipeline, "draft_case", draft)
    components = Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(),
                            chat_=FakeChat())
    submission = submit_notes(db, settings, NOTES, CaseContext(sector=Sector.hospital, unit="Akutmodtagelsen"),
                              reporter_id=reporter_id)
    run_job(db, components, submission.job_id)
    return submission
