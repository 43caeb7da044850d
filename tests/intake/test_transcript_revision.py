"""Correcting the transcript before drafting again: pseudonymised with the case's own map, timestamps kept,
audited without text, a new draft queued (the old one kept as history), and refused once review has begun."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from assistant import audit
from assistant.audit import events_for_case
from assistant.auth import Role, add_user
from assistant.cases import load_case
from assistant.errors import InvalidInput, NotAllowed
from assistant.intake import (
    numbered_segments,
    parse_numbered_segments,
    revise_transcript,
    submit_guide_notes,
    submit_notes,
    submit_recording,
)
from assistant.jobs import Components, pipeline, run_job
from assistant.models import CaseContext, IsbarPart, JobStatus
from assistant.review import review_queue, send_back
from assistant.store.tables import AuditEvent, Draft, Job, PseudonymEntry
from tests.support import audio_factory
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft

NOTES = "Jens fik dobbelt dosis insulin ved vagtskiftet.\n\nMette opdagede det ved dobbeltkontrollen."
PASSWORD = "korrekt-hest-batteri"


@pytest.fixture
def people(db):
    roles = {"rita": Role.reporter, "rolf": Role.reporter, "lars": Role.learning_agent, "frida": Role.facilitator}
    return {name: add_user(db, name, role, PASSWORD) for name, role in roles.items()}


@pytest.fixture
def components(settings, monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    return Components(settings, transcriber_=FakeTranscriber(),
                      pseudonymiser_=FakePseudonymiser(names=("Jens", "Mette", "Karen")), chat_=FakeChat())


@pytest.fixture
def drafted(db, settings, people, components):
    """Rita's typed notes, drafted once."""
    submission = submit_notes(db, settings, NOTES, CaseContext(), actor=people["rita"])
    assert run_job(db, components, submission.job_id).status == JobStatus.done
    return submission


def count(db, table) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(table))


def originals(db, case_id: str) -> dict[str, str]:
    with db.session() as session:
        return {e.placeholder: e.original for e in session.scalars(
            select(PseudonymEntry).where(PseudonymEntry.case_id == case_id))}


def test_a_corrected_transcript_is_pseudonymised_with_the_cases_map_and_drafted_again(db, people, components,
                                                                                       drafted):
    before = load_case(db, drafted.case_id)
    assert before.segments[0].text == "[PERSON_1] fik dobbelt dosis insulin ved vagtskiftet."
    old_point_ids = {p.id for p in before.learning_points}

    queued = revise_transcript(db, components, people["rita"], drafted.case_id,
                               {0: "[PERSON_1] fik dobbelt dosis insulin kl. 7, sagde Karen til Mette."})

    revised = load_case(db, drafted.case_id)
    assert revised.status == "processing"
    # A name typed in the edit became a placeholder; the known ones kept theirs.
    assert revised.segments[0].text == "[PERSON_1] fik dobbelt dosis insulin kl. 7, sagde [PERSON_3] til [PERSON_2]."
    assert revised.segments[1].text == before.segments[1].text
    assert originals(db, drafted.case_id) == {"[PERSON_1]": "Jens", "[PERSON_2]": "Mette", "[PERSON_3]": "Karen"}
    with db.session() as session:
        job = session.get(Job, queued.job_id)
        assert (job.stage, job.status, job.case_id) == ("drafting", "queued", drafted.case_id)

    assert run_job(db, components, queued.job_id).status == JobStatus.done
    redrafted = load_case(db, drafted.case_id)
    assert redrafted.status == "awaiting_review"
    assert count(db, Draft) == 2, "the earlier draft stays as history"
    assert {p.id for p in redrafted.learning_points}.isdisjoint(old_point_ids)
    assert redrafted.learning_points[0].what_happened == revised.segments[0].text
    queue = review_queue(db, people["lars"])
    assert [(item.case_id, item.pending_points) for item in queue] == [(drafted.case_id, 1)]


def test_the_edit_is_audited_with_indices_and_lengths_and_never_the_text(db, people, components, drafted):
    edit = "[PERSON_1] fik dobbelt dosis insulin, fortalte Karen."
    revise_transcript(db, components, people["rita"], drafted.case_id, {0: edit})
    events = [e for e in events_for_case(db, drafted.case_id) if e["action"] == "revise_transcript"]
    assert len(events) == 1 and events[0]["actor"] == "rita"
    assert events[0]["before"] == {"segments": [{"index": 0, "chars": len(
        "[PERSON_1] fik dobbelt dosis insulin ved vagtskiftet.")}]}
    assert events[0]["after"] == {"segments": [{"index": 0, "chars": len(
        "[PERSON_1] fik dobbelt dosis insulin, fortalte [PERSON_3].")}]}
    logged = json.dumps(events[0], default=str)
    assert "Karen" not in logged and "fortalte" not in logged


def test_timestamps_of_a_recording_stay_when_its_text_is_corrected(db, settings, people, components, tmp_path):
    submission = submit_recording(db, settings, audio_factory.tone(tmp_path / "a.wav", seconds=2.0), CaseContext(),
                                  actor=people["rita"])
    run_job(db, components, submission.job_id)
    before = load_case(db, submission.case_id).segments
    queued = revise_transcript(db, components, people["rita"], submission.case_id,
                               {1: "Vi opdagede fejlen ved vagtskiftet kl. 7."})
    after = load_case(db, submission.case_id).segments
    assert [(s.index, s.start, s.end) for s in after] == [(s.index, s.start, s.end) for s in before]
    assert after[1].text == "Vi opdagede fejlen ved vagtskiftet kl. 7."
    assert run_job(db, components, queued.job_id).status == JobStatus.done


def test_another_reporter_may_not_correct_the_transcript(db, people, components, drafted):
    before = load_case(db, drafted.case_id)
    with pytest.raises(NotAllowed):
        revise_transcript(db, components, people["rolf"], drafted.case_id, {0: "Noget helt andet."})
    assert load_case(db, drafted.case_id).segments == before.segments
    assert count(db, Job) == 1


def test_a_learning_agent_may_correct_any_cases_transcript(db, people, components, drafted):
    queued = revise_transcript(db, components, people["lars"], drafted.case_id, {1: "[PERSON_2] så det straks."})
    assert queued.case_id == drafted.case_id and count(db, Job) == 2


def test_correcting_is_refused_once_a_learning_agent_has_decided_on_a_point(db, people, components, drafted):
    point_id = load_case(db, drafted.case_id).learning_points[0].id
    send_back(db, people["lars"], point_id, question="Hvilken dosis?")
    with pytest.raises(InvalidInput) as refused:
        revise_transcript(db, components, people["rita"], drafted.case_id, {0: "Noget andet skete."})
    assert refused.value.key == "case.revision_decided"
    assert "læringsagent" in refused.value.message("da") and "learning agent" in refused.value.message("en")
    assert count(db, Job) == 1


def test_correcting_again_waits_until_the_new_draft_is_made(db, people, components, drafted):
    revise_transcript(db, components, people["rita"], drafted.case_id, {0: "Første rettelse."})
    with pytest.raises(InvalidInput) as refused:
        revise_transcript(db, components, people["rita"], drafted.case_id, {0: "Anden rettelse."})
    assert refused.value.key == "case.revision_busy"
    assert load_case(db, drafted.case_id).segments[0].text == "Første rettelse."


def test_a_case_without_a_transcript_has_nothing_to_correct(db, settings, people, components):
    queued = submit_notes(db, settings, NOTES, CaseContext(), actor=people["rita"])
    with pytest.raises(InvalidInput) as refused:
        revise_transcript(db, components, people["rita"], queued.case_id, {0: "Noget."})
    assert refused.value.key == "case.revision_no_transcript"


@pytest.mark.parametrize(("edit", "key"), [({7: "Ny linje."}, "case.revision_unknown_segment"),
                                           ({0: "   "}, "case.revision_empty_segment")])
def test_unknown_or_emptied_lines_are_refused_and_nothing_changes(db, people, components, drafted, edit, key):
    before = load_case(db, drafted.case_id).segments
    with pytest.raises(InvalidInput) as refused:
        revise_transcript(db, components, people["rita"], drafted.case_id, edit)
    assert refused.value.key == key
    assert load_case(db, drafted.case_id).segments == before and count(db, Job) == 1


def test_a_failure_while_storing_the_correction_leaves_nothing_half_written(db, people, components, drafted,
                                                                            monkeypatch):
    before = load_case(db, drafted.case_id)
    map_before = originals(db, drafted.case_id)

    def broken(*args, **kwargs):
        raise RuntimeError("disk trouble")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        revise_transcript(db, components, people["rita"], drafted.case_id, {0: "Karen gav insulin for tidligt."})
    after = load_case(db, drafted.case_id)
    assert after.segments == before.segments and after.status == before.status
    assert originals(db, drafted.case_id) == map_before
    assert count(db, Job) == 1 and count(db, AuditEvent) == 0


def test_a_guide_case_keeps_its_isbar_mapping_when_drafted_again(db, settings, people, components):
    notes = [("Stue 4, Jens, 82 år", IsbarPart.identifikation), ("Faldt på badeværelset", IsbarPart.situation)]
    submission = submit_guide_notes(db, settings, people["frida"], notes, CaseContext(), guide_id="hot_debrief")
    run_job(db, components, submission.job_id)
    queued = revise_transcript(db, components, people["frida"], submission.case_id, {0: "Stue 4, Jens, 83 år"})
    run_job(db, components, queued.job_id)
    sections = {s.part: s for s in load_case(db, submission.case_id).isbar}
    assert sections[IsbarPart.identifikation].text == "Stue 4, [PERSON_1], 83 år"
    assert sections[IsbarPart.situation].text == "Faldt på badeværelset"
    assert sections[IsbarPart.identifikation].segment_indices == [0]


def test_numbered_lines_round_trip_with_paragraphs_of_several_lines():
    text = numbered_segments([(0, "Første linje\nanden linje"), (1, "[PERSON_1] kom ind.")])
    assert text == "[0] Første linje\nanden linje\n[1] [PERSON_1] kom ind."
    assert parse_numbered_segments(text) == {0: "Første linje\nanden linje", 1: "[PERSON_1] kom ind."}
    assert parse_numbered_segments(text.replace("kom ind", "gik ud")) == {0: "Første linje\nanden linje",
                                                                         1: "[PERSON_1] gik ud."}


@pytest.mark.parametrize("text", ["", "tekst uden nummer\n[0] Første", "[0] a\n[0] b"])
def test_unreadable_numbered_text_is_refused_in_both_languages(text):
    with pytest.raises(InvalidInput) as refused:
        parse_numbered_segments(text)
    assert refused.value.key == "case.revision_unreadable"
    assert "[0]" in refused.value.message("da") and "[0]" in refused.value.message("en")


def test_no_decision_is_taken_on_an_old_draft_or_while_the_new_one_is_made(db, settings, people, components,
                                                                            drafted):
    from assistant.review import approve
    from vectorstore.index import LearningIndex

    index = LearningIndex(settings)
    old_point = load_case(db, drafted.case_id).learning_points[0].id
    queued = revise_transcript(db, components, people["rita"], drafted.case_id, {1: "Mette så fejlen i tide."})
    with pytest.raises(InvalidInput) as running:
        approve(db, index, people["lars"], old_point)
    assert "nyt udkast" in running.value.message("da")

    assert run_job(db, components, queued.job_id).status == JobStatus.done
    with pytest.raises(InvalidInput) as superseded:
        approve(db, index, people["lars"], old_point)
    assert "older draft" in superseded.value.message("en")
    new_point = load_case(db, drafted.case_id).learning_points[0].id
    approve(db, index, people["lars"], new_point)
    assert index.count() == 1
