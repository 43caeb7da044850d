"""Listening to the evidence: a reviewer hears the part of a kept recording that a learning point cites.

The recordings are real WAVs (espeak-ng speech, a tone, silence between) decoded by the same PyAV path as
uploads; speech-to-text and drafting are the small fakes, whose segments lie at 0–2 s, 2–4 s and 4–6 s.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from assistant.audit import events_for_case
from assistant.auth import Actor, Role
from assistant.cases import audio_clip, load_case, segment_clip
from assistant.cases import reading as cases
from assistant.errors import NotAllowed, NotFound
from assistant.intake import submit_recording
from assistant.jobs import Components, pipeline, run_job
from assistant.models import CaseContext, JobStatus
from assistant.store.tables import AudioFile, utcnow
from tests.support import audio_factory
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft

AGENT = Actor(name="lars", role=Role.learning_agent)
STAFF = Actor(name="sofie", role=Role.staff)
TONE_STARTS = 9.0  # where the tone begins in the recording below (7 s of speech and quiet, 2 s more quiet)


def recording(tmp_path):
    """Speech, then quiet up to TONE_STARTS, then a 2 s tone: about 11 s of real audio."""
    speech = audio_factory.speak("The patient received a double dose of insulin at the shift change.",
                                 tmp_path / "speech.wav")
    samples, rate = audio_factory.read_wav(speech)
    quiet = audio_factory.silence(tmp_path / "quiet.wav", TONE_STARTS - len(samples) / rate, rate=rate)
    tone = audio_factory.tone(tmp_path / "tone.wav", seconds=2.0, rate=rate)
    return audio_factory.concat([speech, quiet, tone], tmp_path / "debriefing.wav")


def processed_case(db, settings, tmp_path, monkeypatch, *, keep_audio: bool) -> str:
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    submission = submit_recording(db, settings, recording(tmp_path), CaseContext(keep_audio=keep_audio))
    components = Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(),
                            chat_=FakeChat())
    assert run_job(db, components, submission.job_id).status == JobStatus.done
    return submission.case_id


def loudness(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0


def test_a_cited_segment_plays_with_a_second_either_side(db, settings, tmp_path, monkeypatch):
    case_id = processed_case(db, settings, tmp_path, monkeypatch, keep_audio=True)
    assert load_case(db, case_id).audio_kept

    clip = segment_clip(db, settings, AGENT, case_id, 1)  # the fake transcript's second line: 2–4 s
    assert (clip.start, clip.end) == pytest.approx((1.0, 5.0), abs=0.01)
    assert clip.seconds == pytest.approx(4.0, abs=0.01) and clip.sample_rate == 16_000

    first = segment_clip(db, settings, AGENT, case_id, 0)  # 0–2 s: nothing to pad before the start
    assert first.start == 0.0 and first.seconds == pytest.approx(3.0, abs=0.01)


def test_the_clip_is_the_cited_part_of_the_recording(db, settings, tmp_path, monkeypatch):
    case_id = processed_case(db, settings, tmp_path, monkeypatch, keep_audio=True)
    at_the_tone = audio_clip(db, settings, AGENT, case_id, TONE_STARTS + 0.5, TONE_STARTS + 1.5)
    in_the_quiet = audio_clip(db, settings, AGENT, case_id, 7.5, 7.6)
    tone_part = at_the_tone.samples[int(1.1 * 16_000):int(2.4 * 16_000)]  # the requested second, inside the pad
    assert loudness(tone_part) > 0.15  # the 0.3-amplitude tone
    assert loudness(in_the_quiet.samples) < 0.001
    assert at_the_tone.as_pcm16().dtype == np.int16 and np.abs(at_the_tone.as_pcm16()).max() > 5000


def test_a_long_segment_plays_only_up_to_the_cap(db, settings, tmp_path, monkeypatch):
    case_id = processed_case(db, settings, tmp_path, monkeypatch, keep_audio=True)
    monkeypatch.setattr(cases, "MAX_CLIP_SECONDS", 3.0)
    assert audio_clip(db, settings, AGENT, case_id, 2.0, 10.0).seconds == pytest.approx(3.0, abs=0.01)
    # Past the end of the recording the clip just stops with it.
    assert audio_clip(db, settings, AGENT, case_id, 10.5, 10.9).end == pytest.approx(11.0, abs=0.05)


def test_listening_is_audited(db, settings, tmp_path, monkeypatch):
    case_id = processed_case(db, settings, tmp_path, monkeypatch, keep_audio=True)
    segment_clip(db, settings, AGENT, case_id, 2)
    played = [e for e in events_for_case(db, case_id) if e["action"] == "audio_played"]
    assert len(played) == 1 and played[0]["actor"] == "lars"
    assert played[0]["after"] == {"start": 3.0, "end": 7.0}


def test_staff_may_not_listen_to_a_recording(db, settings, tmp_path, monkeypatch):
    case_id = processed_case(db, settings, tmp_path, monkeypatch, keep_audio=True)
    with pytest.raises(NotAllowed) as error:
        segment_clip(db, settings, STAFF, case_id, 1)
    assert error.value.message("da") != error.value.message("en")
    assert not [e for e in events_for_case(db, case_id) if e["action"] == "audio_played"]


def test_a_recording_kept_without_consent_is_gone_and_cannot_be_played(db, settings, tmp_path, monkeypatch):
    case_id = processed_case(db, settings, tmp_path, monkeypatch, keep_audio=False)
    assert not load_case(db, case_id).audio_kept
    with pytest.raises(NotFound) as error:
        segment_clip(db, settings, AGENT, case_id, 1)
    assert error.value.key == "case.audio_not_kept"
    assert "ikke gemt" in error.value.message("da") and "not kept" in error.value.message("en")


def test_a_recording_past_its_retention_is_refused_before_the_purge_runs(db, settings, tmp_path, monkeypatch):
    case_id = processed_case(db, settings, tmp_path, monkeypatch, keep_audio=True)
    with db.session() as session:
        for row in session.query(AudioFile).filter_by(case_id=case_id):
            row.delete_after = utcnow() - dt.timedelta(minutes=1)
    assert list(settings.audio_dir.glob("*"))  # still on disk: the purge has not come round yet
    assert not load_case(db, case_id).audio_kept
    with pytest.raises(NotFound) as error:
        audio_clip(db, settings, AGENT, case_id, 2.0, 4.0)
    assert error.value.key == "case.audio_not_kept"


def test_an_unknown_segment_is_not_found(db, settings, tmp_path, monkeypatch):
    case_id = processed_case(db, settings, tmp_path, monkeypatch, keep_audio=True)
    with pytest.raises(NotFound) as error:
        segment_clip(db, settings, AGENT, case_id, 42)
    assert error.value.key == "case.segment_not_found" and "#42" in error.value.message("en")
