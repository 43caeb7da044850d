"""The clinical vocabulary the recogniser is told to expect: what goes in, how each backend receives it, and that
it can neither leak a person into another case nor stop a transcription."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest

from assistant.intake import submit_notes, submit_recording
from assistant.jobs import Components, pipeline, run_job
from assistant.models import CaseContext, JobStatus, Sector, Segment, Transcript
from assistant.settings import Settings
from assistant.speech import SAMPLE_RATE, FasterWhisperTranscriber, OpenAIServerTranscriber
from assistant.speech.vocabulary import MAX_UNITS, DecoderVocabulary, clinical_terms, decoder_vocabulary
from assistant.store.tables import Case
from tests.support import audio_factory
from tests.support.fakes import FakeChat, FakePseudonymiser, fake_draft
from tests.support.servers import app_in_thread
from tests.support.transcription_server import transcription_app

ISBAR = ["Identifikation", "Situation", "Baggrund", "Analyse", "Råd"]
# faster-whisper keeps at most max_length // 2 - 1 = 223 tokens of hot words; the vocabulary must stay well below.
HOTWORD_TOKEN_LIMIT = 223


def with_vocabulary(settings: Settings, mode: str) -> Settings:
    return settings.model_copy(update={"asr_vocabulary": mode})


class FakeWhisperModel:
    """Stands in for faster-whisper's WhisperModel: records each call's options, hears nothing."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def transcribe(self, audio: np.ndarray, **options: object):
        self.calls.append(options)
        return iter([]), types.SimpleNamespace(language="da")


class ListeningTranscriber:
    """A backend that takes a vocabulary, and remembers the one it was given."""

    model_id = "listening-transcriber"
    accepts_vocabulary = True

    def __init__(self) -> None:
        self.vocabularies: list[DecoderVocabulary | None] = []

    def transcribe(self, audio: Path, progress=None, vocabulary: DecoderVocabulary | None = None) -> Transcript:
        self.vocabularies.append(vocabulary)
        return Transcript(segments=[Segment(index=0, start=0.0, end=2.0, text="Patienten fik insulin.")],
                          language="da", duration=2.0, model_id=self.model_id)


@pytest.fixture
def hotwords(settings: Settings) -> Settings:
    return with_vocabulary(settings, "hotwords")


@pytest.fixture
def listening(hotwords: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[Components, ListeningTranscriber]:
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    transcriber = ListeningTranscriber()
    return Components(hotwords, transcriber_=transcriber, pseudonymiser_=FakePseudonymiser(), chat_=FakeChat()), \
        transcriber


def record(db, settings: Settings, tmp_path: Path, unit: str, name: str = "a.wav", seconds: float = 2.0):
    return submit_recording(db, settings, audio_factory.tone(tmp_path / name, seconds=seconds),
                            CaseContext(sector=Sector.hospital, unit=unit))


def test_the_clinical_vocabulary_holds_the_isbar_words_and_the_high_risk_drugs() -> None:
    terms = clinical_terms()
    assert list(terms[:5]) == ISBAR
    assert {"insulin", "methotrexat", "kalium", "morfin", "gentamicin", "digoxin", "warfarin"} <= set(terms)
    assert len(terms) == len(set(terms)) and all(t.strip() == t and t for t in terms)


def test_the_vocabulary_fits_the_decoders_budget_even_with_long_unit_names(settings: Settings) -> None:
    from tokenizers import Tokenizer

    from assistant.model_cache import whisper_base_dir

    units = ["Kardiologisk Sengeafsnit Nord", "Ortopædkirurgisk Ambulatorium", "Akutmodtagelsen Vest"]
    vocabulary = decoder_vocabulary(with_vocabulary(settings, "hotwords"), units)
    tokenizer = Tokenizer.from_file(str(whisper_base_dir(settings) / "tokenizer.json"))
    tokens = tokenizer.encode(" " + vocabulary.text, add_special_tokens=False).ids

    assert vocabulary.terms[:3] == units, "the team's units come first"
    assert set(ISBAR) <= set(vocabulary.terms)
    assert len(tokens) <= 180 < HOTWORD_TOKEN_LIMIT, "room is left for the text of a 30-second window"


def test_the_vocabulary_is_off_unless_chosen(db, settings: Settings, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    transcriber = ListeningTranscriber()
    components = Components(settings, transcriber_=transcriber, pseudonymiser_=FakePseudonymiser(), chat_=FakeChat())
    submission = record(db, settings, tmp_path, "Akutmodtagelsen")

    assert run_job(db, components, submission.job_id).status == JobStatus.done
    assert settings.asr_vocabulary == "off" and transcriber.vocabularies == [None]


def test_setting_the_vocabulary_off_gives_the_decoder_nothing(settings: Settings, db, tmp_path: Path) -> None:
    off = with_vocabulary(settings, "off")
    submission = record(db, off, tmp_path, "Akutmodtagelsen")
    model = FakeWhisperModel()
    transcriber = FasterWhisperTranscriber(off)
    transcriber.model = lambda: model  # type: ignore[method-assign]

    transcriber.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32),
                           vocabulary=pipeline.vocabulary_for_case(db, off, submission.case_id))

    assert decoder_vocabulary(off, ["Akutmodtagelsen"]) is None
    assert pipeline.vocabulary_for_case(db, off, submission.case_id) is None
    assert "hotwords" not in model.calls[0] and "initial_prompt" not in model.calls[0]


@pytest.mark.parametrize(("mode", "option", "absent"), [("hotwords", "hotwords", "initial_prompt"),
                                                         ("prompt", "initial_prompt", "hotwords")])
def test_faster_whisper_receives_the_vocabulary_in_the_chosen_mode_for_every_piece(
    settings: Settings, mode: str, option: str, absent: str
) -> None:
    chosen = with_vocabulary(settings, mode)
    model = FakeWhisperModel()
    transcriber = FasterWhisperTranscriber(chosen, chunk_seconds=1.0)
    transcriber.model = lambda: model  # type: ignore[method-assign]

    transcriber.transcribe(np.zeros(3 * SAMPLE_RATE, dtype=np.float32),
                           vocabulary=decoder_vocabulary(chosen, ["Akutmodtagelsen"]))

    assert len(model.calls) == 3
    assert all(call[option].startswith("Akutmodtagelsen, Identifikation, Situation") for call in model.calls)
    assert all(absent not in call for call in model.calls)


def test_the_transcription_server_receives_the_vocabulary_as_its_prompt(settings: Settings) -> None:
    def nothing_heard(samples: np.ndarray, form: dict) -> dict:
        return {"language": "danish", "duration": len(samples) / SAMPLE_RATE, "text": "", "segments": []}

    app, received = transcription_app(nothing_heard)
    chosen = with_vocabulary(settings, "hotwords")
    with app_in_thread(app) as url:
        server = chosen.model_copy(update={"transcriber": "openai", "transcriber_base_url": f"{url}/v1"})
        hinted = OpenAIServerTranscriber(server).transcribe(
            np.zeros(SAMPLE_RATE, dtype=np.float32), vocabulary=decoder_vocabulary(chosen, ["Hjemmeplejen Nord"]))
        plain = OpenAIServerTranscriber(server).transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32))

    assert received.forms[0]["prompt"].startswith("Hjemmeplejen Nord, Identifikation")
    assert "prompt" not in received.forms[1]
    assert hinted.model_id.endswith("+vocabulary:hotwords") and "vocabulary" not in plain.model_id


def test_the_recogniser_hears_the_cases_unit_first_then_the_units_of_recent_cases(
    db, hotwords: Settings, tmp_path: Path, listening
) -> None:
    components, transcriber = listening
    for i, unit in enumerate(["Hjemmeplejen Nord", "Hjemmeplejen Nord", "Afsnit B3"]):
        record(db, hotwords, tmp_path, unit, name=f"old{i}.wav", seconds=2.0 + i * 0.1)
    submission = record(db, hotwords, tmp_path, "Akutmodtagelsen", name="new.wav", seconds=3.0)

    assert run_job(db, components, submission.job_id).status == JobStatus.done

    heard = transcriber.vocabularies[-1]
    assert heard.mode == "hotwords"
    assert heard.terms[:MAX_UNITS] == ["Akutmodtagelsen", "Hjemmeplejen Nord", "Afsnit B3"]
    assert heard.terms[MAX_UNITS:MAX_UNITS + 5] == ISBAR


def test_free_text_in_another_cases_unit_field_never_reaches_the_recogniser(
    db, hotwords: Settings, tmp_path: Path
) -> None:
    record(db, hotwords, tmp_path, "Jens Hansen 010190-1234 stue 4", name="cpr.wav")
    report = record(db, hotwords, tmp_path, "Mor Jytte", name="patient.wav", seconds=2.5)
    with db.session() as session:
        session.get(Case, report.case_id).reporter_type = "relative"  # from the open report page
    submission = record(db, hotwords, tmp_path, "Akutmodtagelsen", name="new.wav", seconds=3.0)

    vocabulary = pipeline.vocabulary_for_case(db, hotwords, submission.case_id)

    assert vocabulary.terms[0] == "Akutmodtagelsen"
    for fragment in ("Jens", "Hansen", "010190", "Jytte"):
        assert fragment not in vocabulary.text


def test_a_vocabulary_that_cannot_be_built_never_stops_a_transcription(
    db, hotwords: Settings, tmp_path: Path, listening, monkeypatch: pytest.MonkeyPatch
) -> None:
    components, transcriber = listening

    def broken(*args, **kwargs):
        raise OSError("clinical_vocabulary_da.txt: no such file")

    monkeypatch.setattr(pipeline, "decoder_vocabulary", broken)
    submission = record(db, hotwords, tmp_path, "Akutmodtagelsen")

    assert run_job(db, components, submission.job_id).status == JobStatus.done
    assert transcriber.vocabularies == [None]


def test_an_unreadable_word_list_still_gives_the_team_its_unit(settings: Settings, monkeypatch) -> None:
    def unreadable():
        raise OSError("gone")

    monkeypatch.setattr("assistant.speech.vocabulary.clinical_terms", unreadable)
    vocabulary = decoder_vocabulary(with_vocabulary(settings, "prompt"), ["Akutmodtagelsen"])
    assert vocabulary.terms == ["Akutmodtagelsen"]


def test_typed_notes_are_not_affected_by_the_vocabulary(db, hotwords: Settings, listening) -> None:
    components, transcriber = listening
    submission = submit_notes(db, hotwords, "Patienten fik insulin.", CaseContext(unit="Akutmodtagelsen"))
    assert run_job(db, components, submission.job_id).status == JobStatus.done
    assert transcriber.vocabularies == []


def test_bundled_whisper_still_transcribes_danish_with_the_vocabulary_on(settings: Settings, tmp_path: Path) -> None:
    clip = audio_factory.speak("Patienten fik den forkerte dosis insulin om natten.", tmp_path / "da.wav", voice="da")
    chosen = with_vocabulary(settings, "hotwords")
    transcriber = FasterWhisperTranscriber(chosen)

    transcript = transcriber.transcribe(clip, vocabulary=decoder_vocabulary(chosen, ["Akutmodtagelsen"]))

    assert transcript.segments and transcript.text.strip()
    assert all(0 <= s.start <= s.end <= transcript.duration + 0.01 for s in transcript.segments)
    assert "Identifikation, Situation" not in transcript.text, "the vocabulary is a hint, not text to copy"
    assert transcript.model_id == "faster-whisper:whisper-base-bundled:int8+vocabulary:hotwords"
