"""Whose case is it: identical hand-ins, reading a case back, and who may run a conversation guide.

Content hashes are global (one case per recording or set of notes), so the library, not the UI, decides who an
earlier identical case may be shown to.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from assistant.auth import Permission, Role, add_user
from assistant.cases import load_case_for
from assistant.errors import InvalidInput, NotAllowed
from assistant.intake import submit_guide_notes, submit_notes, submit_recording
from assistant.jobs import Components, pipeline, run_job
from assistant.models import CaseContext, IsbarPart
from assistant.store.tables import Case, Job
from tests.support import audio_factory
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft

NOTES = "Jens fik dobbelt dosis insulin ved vagtskiftet.\n\nMette opdagede det ved dobbeltkontrollen."
PASSWORD = "korrekt-hest-batteri"


@pytest.fixture
def people(db):
    roles = {"rita": Role.reporter, "rolf": Role.reporter, "sofie": Role.staff, "frida": Role.facilitator,
             "lars": Role.learning_agent, "adam": Role.admin}
    return {name: add_user(db, name, role, PASSWORD) for name, role in roles.items()}


@pytest.fixture
def components(settings, monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    return Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(), chat_=FakeChat())


def cases_and_jobs(db) -> tuple[int, int]:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Case)), session.scalar(
            select(func.count()).select_from(Job))


def test_identical_notes_from_another_reporter_get_neither_the_case_nor_its_job(db, settings, people, components):
    ritas = submit_notes(db, settings, NOTES, CaseContext(), actor=people["rita"])
    run_job(db, components, ritas.job_id)
    with pytest.raises(InvalidInput) as refused:
        submit_notes(db, settings, NOTES, CaseContext(), actor=people["rolf"])
    assert refused.value.key == "case.already_received"
    for language in ("da", "en"):
        message = refused.value.message(language)
        assert ritas.case_id not in message and ritas.job_id not in message
    assert "allerede indsendt af en anden" in refused.value.message("da")
    assert "already handed in by someone else" in refused.value.message("en")
    assert not any(ritas.case_id in str(value) for value in refused.value.params.values())
    assert cases_and_jobs(db) == (1, 1)


def test_an_identical_re_upload_by_the_same_reporter_returns_the_existing_case(db, settings, people):
    first = submit_notes(db, settings, NOTES, CaseContext(), actor=people["rita"])
    again = submit_notes(db, settings, NOTES, CaseContext(), actor=people["rita"])
    assert again.duplicate and again.case_id == first.case_id and again.job_id == first.job_id
    assert again.receipt_code is None


def test_a_learning_agent_handing_in_the_same_notes_is_shown_the_case_they_may_read_anyway(db, settings, people):
    first = submit_notes(db, settings, NOTES, CaseContext(), actor=people["rita"])
    assert people["lars"].can(Permission.read_any_case)
    again = submit_notes(db, settings, NOTES, CaseContext(), actor=people["lars"])
    assert again.duplicate and again.case_id == first.case_id


def test_the_same_recording_from_another_reporter_is_refused_and_not_stored_again(db, settings, people, tmp_path):
    path = audio_factory.tone(tmp_path / "vagtskifte.wav", seconds=2.0)
    first = submit_recording(db, settings, path, CaseContext(), actor=people["rita"])
    stored = sorted(settings.audio_dir.iterdir())
    with pytest.raises(InvalidInput) as refused:
        submit_recording(db, settings, path, CaseContext(), actor=people["rolf"])
    assert refused.value.key == "case.already_received" and first.case_id not in refused.value.message("en")
    assert sorted(settings.audio_dir.iterdir()) == stored and cases_and_jobs(db) == (1, 1)
    assert submit_recording(db, settings, path, CaseContext(), actor=people["rita"]).case_id == first.case_id


def test_only_roles_that_may_submit_hand_in_through_the_library(db, settings):
    from assistant.auth import PUBLIC

    with pytest.raises(NotAllowed):
        submit_notes(db, settings, NOTES, CaseContext(), actor=PUBLIC)
    assert cases_and_jobs(db) == (0, 0)


def test_a_case_is_read_back_only_by_its_reporter_or_a_role_that_reads_every_case(db, settings, people, components):
    ritas = submit_notes(db, settings, NOTES, CaseContext(), actor=people["rita"])
    run_job(db, components, ritas.job_id)
    for stranger in ("rolf", "sofie", "frida"):
        with pytest.raises(NotAllowed):
            load_case_for(db, people[stranger], ritas.case_id)
    assert load_case_for(db, people["rita"], ritas.case_id).learning_points
    assert load_case_for(db, people["lars"], ritas.case_id).id == ritas.case_id
    assert load_case_for(db, people["adam"], ritas.case_id).id == ritas.case_id


GUIDE_NOTES = [("Stue 4, Jens, 82 år", IsbarPart.identifikation), ("Faldt på badeværelset", IsbarPart.situation)]


@pytest.mark.parametrize("who", ["rita", "sofie"])
def test_only_facilitating_roles_hand_in_guide_notes(db, settings, people, who):
    with pytest.raises(NotAllowed) as refused:
        submit_guide_notes(db, settings, people[who], GUIDE_NOTES, CaseContext(), guide_id="hot_debrief")
    assert "giver ikke adgang" in refused.value.message("da")
    assert cases_and_jobs(db) == (0, 0)


@pytest.mark.parametrize("who", ["frida", "lars", "adam"])
def test_facilitators_learning_agents_and_admins_hand_in_guide_notes_as_the_cases_reporter(db, settings, people, who):
    submission = submit_guide_notes(db, settings, people[who], GUIDE_NOTES, CaseContext(), guide_id="hot_debrief")
    with db.session() as session:
        assert session.get(Case, submission.case_id).reporter_id == people[who].user_id
