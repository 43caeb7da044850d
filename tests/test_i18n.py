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
