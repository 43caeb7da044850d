"""Word confidence: kept with the transcript, pseudonymised like its text, readable from stores made before it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from assistant.cases import load_case
from assistant.intake import submit_recording
from assistant.jobs import Components, pipeline, run_job
from assistant.models import CaseContext, JobStatus, Segment, Transcript, Word
from assistant.privacy import Pseudonymiser
from assistant.settings import Settings
from assistant.speech.transcriber import SegmentCollector
from assistant.speech.words import align_words, count_uncertain, marked_pieces
from assistant.store.database import Database
from assistant.store.tables import Segment as SegmentRow
from tests.support import audio_factory
from tests.support.fakes import FakeChat, fake_draft

HEARD = [
    # (word as Whisper gives it, start, end, probability)
    [(" Patienten", 0.0, 0.6, 0.97), (" Jens", 0.6, 0.9, 0.41), (" Hansen", 0.9, 1.3, 0.88), (" fik", 1.3, 1.5, 0.95),
     (" insulin", 1.5, 2.0, 0.32), (".", 2.0, 2.0, 0.9)],
    [(" Mette", 2.4, 2.8, 0.93), (" ringede", 2.8, 3.2, 0.96), (" til", 3.2, 3.4, 0.99), (" lægen.", 3.4, 3.9, 0.7)],
]


class WordTranscriber:
    """Hands back a recording of a name-bearing handover, with word times and confidence as Whisper gives them."""

    model_id = "fake-words"

    def transcribe(self, audio, progress=None) -> Transcript:
        collector = SegmentCollector(4.0, progress)
        for words in HEARD:
            collector.add(0.0, 4.0, words[0][1], words[-1][2], "".join(w for w, *_ in words), words)
        return Transcript(segments=collector.segments, language="da", duration=4.0, model_id=self.model_id)


@pytest.fixture(scope="module")
def pseudonymiser(tmp_path_factory: pytest.TempPathFactory) -> Pseudonymiser:
    cache = tmp_path_factory.mktemp("cache")
    return Pseudonymiser(Settings(data_dir=cache / "data", cache_dir=cache))


def test_names_in_the_recording_never_reach_the_stored_words(db, settings, tmp_path, monkeypatch, pseudonymiser):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    components = Components(settings, transcriber_=WordTranscriber(), pseudonymiser_=pseudonymiser, chat_=FakeChat())
    submission = submit_recording(db, settings, audio_factory.tone(tmp_path / "a.wav", seconds=4.0), CaseContext())
    assert run_job(db, components, submission.job_id).status == JobStatus.done

    with db.session() as session:
        stored = json.dumps([row.words for row in session.scalars(select(SegmentRow))], ensure_ascii=False)
    for name in ("Jens", "Hansen", "Mette"):
        assert name not in stored
    segments = load_case(db, submission.case_id).segments
    for segment in segments:
        assert " ".join(w.text for w in segment.words) == " ".join(segment.text.split())
        assert all(segment.start <= w.start <= w.end <= segment.end for w in segment.words)
        assert all(0 <= w.probability <= 1 for w in segment.words)
    # The placeholder stands for the words it replaced, and is as uncertain as the least certain of them.
    placeholder = next(w for w in segments[0].words if w.text.startswith("["))
    assert (placeholder.start, placeholder.end, placeholder.probability) == (0.6, 1.3, 0.41)
    assert [w.text for w in segments[0].words if w.probability < 0.5] == [placeholder.text, "insulin."]


def test_piece_offsets_move_word_times_to_the_recording_and_keep_them_in_their_segment():
    collector = SegmentCollector(240.0, None)
    collector.add(120.0, 120.0, 1.0, 2.0, " Stop nu.", [(" Stop", 0.8, 1.4, 0.6), (" nu.", 1.4, 2.5, 1.2)])
    (segment,) = collector.segments
    assert [(w.text, w.start, w.end, w.probability) for w in segment.words] == [
        ("Stop", 121.0, 121.4, 0.6), ("nu.", 121.4, 122.0, 1.0)]


def test_text_the_pseudonymiser_added_or_removed_keeps_words_and_text_in_step():
    words = [Word(text=t, start=i, end=i + 1, probability=0.9) for i, t in enumerate(["ring", "til", "Ole", "nu"])]
    assert [w.text for w in align_words(words, "ring til [PERSON_1] [X] nu")] == ["ring", "til", "[PERSON_1] [X]", "nu"]
    assert [w.text for w in align_words(words, "ring nu")] == ["ring", "nu"]
    assert align_words(words, "") == [] and align_words([], "ring nu") == []


def test_a_corrected_or_older_segment_is_shown_unmarked():
    word = Word(text="Hej", start=0, end=1, probability=0.1)
    corrected = Segment(index=0, start=0, end=1, text="Goddag", words=[word])
    assert marked_pieces(corrected, 0.5) == [("Goddag", False)]
    assert marked_pieces(Segment(index=0, start=0, end=1, text="Hej"), 0.5) == [("Hej", False)]
    assert count_uncertain([corrected], 0.5) == (0, 0)


def test_transcripts_stored_before_words_were_kept_still_load(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url)
    db.upgrade("0006")  # a store from before word confidence
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO cases (id, reference, source_kind, content_hash, receipt_hash, sector, unit, event_type, "
            "keep_audio, status, created_at, updated_at) VALUES ('c-old', 'UTH-2026-0001', 'audio', 'h', 'r', "
            "'hospital', '', '', 0, 'awaiting_review', '2026-01-05 09:00:00', '2026-01-05 09:00:00')"))
        connection.execute(text(
            "INSERT INTO transcripts (id, case_id, model_id, duration_seconds, created_at) "
            "VALUES ('t-old', 'c-old', 'faster-whisper:old', 3.0, '2026-01-05 09:00:00')"))
        connection.execute(text(
            "INSERT INTO segments (transcript_id, \"index\", start, \"end\", text) "
            "VALUES ('t-old', 0, 0.0, 3.0, 'Vi talte sammen.')"))
    db.upgrade()
    (segment,) = load_case(db, "c-old").segments
    assert segment.text == "Vi talte sammen." and segment.words == []
    assert marked_pieces(segment, 0.5) == [("Vi talte sammen.", False)]
    db.dispose()


def test_a_line_a_person_corrected_loses_its_word_confidence_and_the_others_keep_theirs(
        db, settings, tmp_path, monkeypatch, pseudonymiser):
    from assistant.auth import Role, add_user
    from assistant.intake import revise_transcript

    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    components = Components(settings, transcriber_=WordTranscriber(), pseudonymiser_=pseudonymiser, chat_=FakeChat())
    rita = add_user(db, "rita", Role.reporter, "korrekt-hest-batteri")
    submission = submit_recording(db, settings, audio_factory.tone(tmp_path / "a.wav", seconds=4.0), CaseContext(),
                                  actor=rita)
    run_job(db, components, submission.job_id)

    revise_transcript(db, components, rita, submission.case_id, {1: "Hun ringede til lægen med det samme."})

    first, second = load_case(db, submission.case_id).segments
    assert first.words and second.words == []
