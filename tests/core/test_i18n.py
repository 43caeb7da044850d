"""Danish first, English second: both catalogues carry the same messages, and errors translate."""

from assistant.errors import InvalidAudio
from assistant.i18n import keys, translate


def test_danish_and_english_catalogues_have_the_same_keys():
    assert keys("da") == keys("en")


def test_errors_speak_danish_by_default_and_english_on_request():
    error = InvalidAudio("audio.too_big", megabytes=900, limit_megabytes=500)
    assert error.message() == "Filen er for stor (900 MB; højst 500 MB). Intet er gemt."
    assert error.message("en") == "The file is too big (900 MB; at most 500 MB). Nothing was saved."


def test_an_unknown_language_falls_back_to_danish():
    assert translate("audio.empty", "fr") == translate("audio.empty", "da")


def test_a_record_named_in_a_message_speaks_that_messages_language():
    from assistant.errors import NotFound

    missing_case = NotFound("record.not_found", what="record.what.case", case_id="c0ffee")
    assert missing_case.message("da") == "Sag c0ffee findes ikke."
    assert missing_case.message("en") == "Case c0ffee does not exist."
    missing_code = NotFound("record.not_found", what="record.what.receipt")
    assert missing_code.message("en") == "The receipt code does not exist."
    assert missing_code.message("da") == "Kvitteringskoden findes ikke."


def test_a_wrong_receipt_code_and_a_missing_case_are_refused_in_english_without_danish_words(settings):
    import pytest

    from assistant.cases import load_case
    from assistant.errors import NotFound
    from assistant.review import status_by_receipt
    from assistant.store import open_database

    db = open_database(settings)
    with pytest.raises(NotFound) as no_code:
        status_by_receipt(db, "AAAA-BBBB-CCCC")
    assert no_code.value.message("en") == "The receipt code does not exist."
    with pytest.raises(NotFound) as no_case:
        load_case(db, "c0ffee")
    assert no_case.value.message("en") == "Case c0ffee does not exist."


def test_a_date_that_cannot_be_read_is_explained_in_one_language():
    import pytest

    from assistant.errors import InvalidInput
    from ui.debrief_tab import parse_date

    with pytest.raises(InvalidInput) as refused:
        parse_date("2026-13-45")
    assert refused.value.message("en") == "The date '2026-13-45' cannot be read. Write it as YYYY-MM-DD."
    assert refused.value.message("da") == "Datoen '2026-13-45' kan ikke læses. Skriv den som ÅÅÅÅ-MM-DD."


def test_a_learning_points_id_is_labelled_in_the_readers_language():
    from assistant.cases import LearningPointView
    from ui.render import point_html

    point = LearningPointView(id="p1", position=0, title="Titel", what_happened="Noget skete.",
                              contributing_factors=[], what_went_well=[], suggested_actions=[], category="medicin",
                              severity="mild", safety_ii=False, evidence=[], status="draft", visibility="staff")
    assert "Learning point id: p1" in point_html(point, "en")
    assert "Læringspunkt-id: p1" in point_html(point, "da")
