"""`debrief show` and the case view mark the words the speech recogniser was unsure of."""

from __future__ import annotations

import uuid

from assistant.cases import load_case
from assistant.store import open_database
from assistant.store.tables import Case, Segment, Transcript

WORDS = [
    {"text": "Pumpen", "start": 0.0, "end": 0.5, "probability": 0.93},
    {"text": "gav", "start": 0.5, "end": 0.8, "probability": 0.88},
    {"text": "fastgræns", "start": 0.8, "end": 1.4, "probability": 0.21},
    {"text": "alarm.", "start": 1.4, "end": 2.0, "probability": 0.76},
]


def a_transcribed_case(db) -> str:
    """A case as the pipeline stores a recording: one segment with its words, plus one corrected by hand."""
    with db.session() as session:
        case = Case(source_kind="audio", content_hash=uuid.uuid4().hex, receipt_hash=uuid.uuid4().hex,
                    sector="hospital", unit="Akutmodtagelsen", status="awaiting_review")
        session.add(case)
        session.flush()
        transcript = Transcript(case_id=case.id, model_id="faster-whisper:test", language="da", duration_seconds=4.0)
        transcript.segments = [
            Segment(index=0, start=0.0, end=2.0, text="Pumpen gav fastgræns alarm.", words=WORDS),
            Segment(index=1, start=2.0, end=4.0, text="Vi ringede til lægen.", words=[]),
        ]
        session.add(transcript)
        session.flush()
        return case.reference


def test_show_marks_a_low_confidence_word_and_counts_them(settings, cli):
    reference = a_transcribed_case(open_database(settings))
    shown = cli("show", reference)
    assert shown.exit_code == 0, shown.output
    assert "Pumpen gav [?fastgræns] alarm." in shown.stdout
    assert "Vi ringede til lægen." in shown.stdout and "[?Vi" not in shown.stdout
    assert "1 af 4 ord" in shown.stdout


def test_the_threshold_is_a_setting(settings, cli, monkeypatch):
    reference = a_transcribed_case(open_database(settings))
    monkeypatch.setenv("DEBRIEF_LOW_CONFIDENCE", "0.8")
    shown = cli("show", reference)
    assert "[?fastgræns] [?alarm.]" in shown.stdout and "2 af 4 ord" in shown.stdout


def test_the_case_view_marks_uncertain_words_for_the_browser(settings):
    from ui.render import case_html

    db = open_database(settings)
    html = case_html(load_case(db, a_transcribed_case(db)), "en", low_confidence=0.5)
    assert 'Pumpen gav <mark class="db-low">fastgræns</mark> alarm.' in html
    assert "1 of 4 words are underlined" in html
    assert "db-low" not in case_html(load_case(db, a_transcribed_case(db)), "en")  # 0 marks none
