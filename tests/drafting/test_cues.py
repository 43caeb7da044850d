"""Word cues that check the small model: harm named in the words, and what counts as "went well"."""

from __future__ import annotations

import pytest

from assistant.drafting.cues import load_cues
from assistant.models import Severity


@pytest.fixture(scope="module")
def cues():
    return load_cues()


@pytest.mark.parametrize("text, harm", [
    ("Senere på dagen dør borgeren, formentlig på grund af overdoseringen.", Severity.fatal),
    ("Patienten døde natten efter.", Severity.fatal),
    ("Testiklen måtte fjernes to dage senere.", Severity.severe),
    ("Hun faldt og fik et hoftebrud.", Severity.moderate),
    ("Den døende patient fik en forkert dosis og fik hjertestop.", Severity.severe),  # dying: only death is expected
    ("Pasienten hadde fått dobbel dose i tre dager uten at det fikk konsekvenser.", Severity.none),
    ("Der blev ikke reageret på et tryksår på hælen.", Severity.moderate),  # the reaction is denied, not the sore
    ("vi så det ikke og hun fik en blødning", Severity.moderate),  # the negation ends with its clause
    ("Røntgen viste et lårbensbrud.", Severity.moderate),  # an injury found is the event's harm
    ("hun blev fundet død i sin lejlighed", Severity.fatal),
    # a death beside criticism is the event's harm, even when someone else was not criticised
    ("Styrelsen gav ikke kritik til sygeplejersken, men kritiserede lægen. Patienten døde.", Severity.fatal),
])
def test_the_harm_the_words_name_is_found(cues, text, harm):
    assert cues.severity_of(text) == harm


@pytest.mark.parametrize("text", [
    "Han gik ud af døren og ned ad gangen.",  # "døren" is a door, not a death
    "Der var ingen tegn på blødning eller infektion.",  # harm named only to say it was absent
    "Hun blev indlagt med smerter i maven og var i behandling med antibiotika.",  # the setting, not the harm
    "Vi er her fra intensiv og vil gennemgå forløbet.",  # a unit's name
    "Vi bad familien komme, fordi vi troede, at han lå for døden.",  # a death feared, that did not come
    "Han fik lindrende behandling og døde stille om natten, som ventet.",  # an expected death, not the event's harm
    "Forsinkelsen havde ikke givet ham et varigt mén.",  # denied a little further back, through "givet"
    "naboen troede faktisk at hun var død",  # a death believed, that had not happened
    "Vi troede, at han var død, men han trak vejret.",
    "Hun kunne have fået en alvorlig blødning.",  # a possibility, not harm done
    "Røntgen viste lungebetændelse, og han fik antibiotika.",  # the illness found is why he needed care
    # a death the text does not tie to the care is the illness's
    "Styrelsen gav ikke kritik for behandlingen. Patienten døde to dage senere af sin kræftsygdom.",
    "Han ville være død af sygdommen uanset behandlingen.",
    "Myndigheden kritiserede ingen medarbejder og gav ingen kritik. Drengen døde tre dage efter operationen.",
])
def test_words_that_only_look_like_harm_name_none(cues, text):
    assert cues.severity_of(text) is None


@pytest.mark.parametrize("text", [
    "Vi opdagede det, da patienten bagefter skulle have den anden pen.",  # finding the error is no success
    "Det øger faldrisikoen, når man rejser sig hurtigt om natten.",
    "Bemandingen i modtagelsen er styrket efter hændelsen.",  # an action taken afterwards
    "Hun var i risiko for rosen og skulle have tilsyn hver dag.",  # "rosen" is a skin infection, not praise
    "han fik svar når han ringede selvom svaret ikke var godt nok",  # success denied
    "jeg synes det var godt at få det sagt højt",  # praise of the talk, not of the event
    "det er en god ting at vi tæller men det skal føre til handling med det samme",  # conceded before "men"
    "triagen fangede det ikke fordi værdierne ikke var så dårlige",  # success denied
    "Der var for få på gangen til at gå imellem i tide.",  # "i tide" is what too few could not do
    "jeg kunne høre han stoppede op og det kostede nogle sekunder",
    "Nævnet fandt, at behandlingen ikke levede op til normen.",  # the standard denied
])
def test_lines_that_only_look_like_success_are_not_what_went_well(cues, text):
    assert cues.polarity(text) <= 0


def test_a_finding_of_no_criticism_is_neither_failure_nor_success(cues):
    assert cues.polarity("Det andet hospital fik ikke kritik.") == 0


@pytest.mark.parametrize("text", [
    "Styrelsen for Patientklager gav ikke hospitalet kritik for behandlingen.",
    "Myndighedens faglige råd kritiserede ingen enkelt medarbejder og fandt ingen fejl.",
    "og tilsynet har så besluttet ikke at give kritik for forløbet",  # speech: "så" does not end the reach
])
def test_an_authoritys_finding_of_no_criticism_is_a_case_without_fault(cues, text):
    assert cues.no_fault(text)


@pytest.mark.parametrize("text", [
    "det er ikke en kritik men vi glemte at tjekke armbåndet",  # a colleague softening a failure
    "Apoteket kunne derfor ikke kritiseres for den manglende levering.",  # no authority: maybe another's failure
    "Styrelsen gav ikke kritik til sygeplejersken. Styrelsen kritiserede lægen.",  # criticism affirmed
    "Tilsynet var på besøg i går. Det er ikke en kritik af nogen.",  # the authority is not the one that judged
])
def test_a_denial_of_criticism_alone_is_not_a_case_without_fault(cues, text):
    assert not cues.no_fault(text)


@pytest.mark.parametrize("text", [
    "Det gik godt, at vi stoppede op og undersøgte det i stedet for at give medicinen.",
    "Sygeplejersken reagerede hurtigt, og transfusionen blev stoppet efter fem minutter.",
    "Vi opdagede det inden medicinen blev givet.",
    "det var svært men det gik godt",  # what comes after "men" is what the speaker means
    "Patienterstatningen fandt, at behandlingen svarede til erfaren specialiststandard.",  # the standard was met
    "men reaktionen blev håndteret rigtig godt",
])
def test_a_success_the_team_names_counts_as_what_went_well(cues, text):
    assert cues.polarity(text) > 0
