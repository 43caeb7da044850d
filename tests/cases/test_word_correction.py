"""Checking a transcript word by word: the uncertain words in order, the recording around each, and a corrected
line pseudonymised and audited like any correction. Real SQLite and a real WAV decoded by the upload path; the
recogniser and pseudonymiser are small stand-ins."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import func, select

from assistant.audit import events_for_case
from assistant.auth import Role, add_user
from assistant.cases import correction_view, load_case, word_clip
from assistant.errors import NotAllowed
from assistant.intake import correct_line, submit_recording
from assistant.jobs import Components, pipeline, run_job
from assistant.models import CaseContext, JobStatus
from assistant.speech.words import step_uncertain, uncertain_words
from assistant.store.tables import Job
from tests.support import word_recording
from tests.support.fakes import FakeChat, FakePseudonymiser, fake_draft
from tests.support.word_recording import TONE, UNCERTAIN, UnsureTranscriber

THRESHOLD = 0.5


@pytest.fixture
def people(db):
    return {name: add_user(db, name, role, "korrekt-hest-batteri")
            for name, role in {"rita": Role.reporter, "lars": Role.learning_agent}.items()}


@pytest.fixture
def components(settings, monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    return Components(settings, transcriber_=UnsureTranscriber(),
                      pseudonymiser_=FakePseudonymiser(names=("Jens", "Karen")), chat_=FakeChat())


@pytest.fixture
def case_id(db, settings, people, components, tmp_path) -> str:
    submission = submit_recording(db, settings, word_recording.recording(tmp_path), CaseContext(),
                                  actor=people["rita"])
    assert run_job(db, components, submission.job_id).status == JobStatus.done
    return submission.case_id


def walk(db, actor, case_id, step: int, count: int) -> list[str]:
    place, seen = None, []
    for _ in range(count):
        view = correction_view(db, actor, case_id, THRESHOLD, place, step=step if place else 0)
        seen.append(view.word.text)
        place = view.word.place
    return seen


def loudness(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0


def test_next_steps_through_the_uncertain_words_in_order_and_wraps_to_the_first(db, people, case_id):
    assert walk(db, people["rita"], case_id, +1, 5) == [*UNCERTAIN, UNCERTAIN[0]]
    view = correction_view(db, people["rita"], case_id, THRESHOLD, (1, 2))
    assert (view.word.text, view.position, view.total, view.line.index) == ("dosis", 2, 4, 1)
    assert view.line.text == "[PERSON_1] sagde dosis to."  # the line shown is the pseudonymised one


def test_previous_steps_back_and_wraps_from_the_first_to_the_last(db, people, case_id):
    first = correction_view(db, people["rita"], case_id, THRESHOLD)
    assert first.word.text == "gav"
    last = correction_view(db, people["rita"], case_id, THRESHOLD, first.word.place, step=-1)
    assert (last.word.text, last.position) == ("gik", 4)
    assert correction_view(db, people["rita"], case_id, THRESHOLD, last.word.place, step=-1).word.text == "to."


def test_a_transcript_without_uncertain_words_has_nowhere_to_step(db, people, case_id):
    view = correction_view(db, people["rita"], case_id, 0.1)  # nothing is that unsure
    assert view.word is None and view.total == 0 and view.transcript and view.recording
    assert step_uncertain([], None) is None and step_uncertain([], (3, 1), forward=False) is None


def test_the_clip_plays_two_seconds_either_side_of_the_word_from_the_right_time(db, settings, people, case_id):
    view = correction_view(db, people["rita"], case_id, THRESHOLD, (1, 2))  # "dosis", said 5.5–6.5 s

    clip = word_clip(db, settings, people["rita"], case_id, view.word)

    assert (clip.start, clip.end) == pytest.approx((3.5, 8.5), abs=0.01)
    assert clip.seconds == pytest.approx(5.0, abs=0.01) and clip.sample_rate == 16_000
    # The tone (5–7 s in the recording) lies 1.5–3.5 s into the clip, quiet either side of it.
    rate = clip.sample_rate
    inside = clip.samples[int((TONE[0] - clip.start + 0.1) * rate):int((TONE[1] - clip.start - 0.1) * rate)]
    assert loudness(inside) > 0.1
    assert loudness(clip.samples[:int(1.3 * rate)]) < 0.01 and loudness(clip.samples[int(3.7 * rate):]) < 0.01
    played = [e for e in events_for_case(db, case_id) if e["action"] == "audio_played"]
    assert played and played[-1]["actor"] == "rita" and played[-1]["after"]["start"] == 3.5


def test_a_word_at_the_start_gets_a_clip_cut_at_the_recordings_beginning(db, settings, people, case_id):
    first = correction_view(db, people["rita"], case_id, THRESHOLD)  # "gav", 0.8–1.2 s
    clip = word_clip(db, settings, people["rita"], case_id, first.word)
    assert clip.start == 0.0 and clip.seconds == pytest.approx(3.2, abs=0.01)


def test_without_consent_only_the_reporter_hears_the_recording(db, settings, people, case_id):
    view = correction_view(db, people["lars"], case_id, THRESHOLD)
    assert view.word is not None and not view.recording
    with pytest.raises(NotAllowed):
        word_clip(db, settings, people["lars"], case_id, view.word)


def test_a_corrected_line_is_pseudonymised_audited_and_the_check_moves_on(db, people, components, case_id):
    stored = correct_line(db, components, people["rita"], case_id, 1, "Karen sagde dosis 2 enheder.")

    assert stored == "[PERSON_2] sagde dosis 2 enheder."
    segment = load_case(db, case_id).segments[1]
    assert segment.text == stored and segment.words == []  # a person wrote it: no recogniser marks left
    events = [e for e in events_for_case(db, case_id) if e["action"] == "correct_transcript_line"]
    assert len(events) == 1 and events[0]["actor"] == "rita"
    assert events[0]["after"] == {"segments": [{"index": 1, "chars": len(stored)}]}
    assert "Karen" not in json.dumps(events, default=str)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1, "drafting again waits for the team"
    # The corrected word's line has no uncertain words now: the check lands on the next one.
    after = correction_view(db, people["rita"], case_id, THRESHOLD, (1, 2))
    assert (after.word.text, after.position, after.total) == ("gik", 2, 2)
    assert [w.text for w in uncertain_words(load_case(db, case_id).segments, THRESHOLD)] == ["gav", "gik"]
