"""Replace personal data with numbered placeholders before text reaches the LLM, the index or another user.

Detection is Microsoft Presidio with Danish recognisers only: CPR numbers, phone numbers, e-mails, street
addresses (patterns with context words) and person names (name lists shipped in ``assistant/pseudonym_data``).
No Danish spaCy model exists offline, so Presidio runs on a blank spaCy "da" pipeline (tokens and stop words),
which is all the context enhancer needs. Nothing here touches the network.
"""

from __future__ import annotations

import calendar
import logging
import re
import shutil
import tempfile
import threading
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import spacy
from presidio_analyzer import AnalyzerEngine, LocalRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.recognizer_registry import RecognizerRegistry
from pydantic import BaseModel
from spacy.lang.da.stop_words import STOP_WORDS

from assistant.models import PseudonymEntity
from assistant.privacy.spoken_address import SpokenAddressRecognizer
from assistant.privacy.spoken_numbers import spoken_forms
from assistant.privacy.spoken_text import normalise_spoken
from assistant.settings import Settings, get_settings

# Presidio logs the text of each match at DEBUG (personal data must stay out of logs at any log level), and a
# "Fetching all recognizers" line per sentence at INFO, which buried `debrief eval`'s tables.
logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)

ENTITY_TYPES = ("PERSON", "CPR", "TELEFON", "EMAIL", "ADRESSE")
LANGUAGE = "da"
SCORE_THRESHOLD = 0.5
_DATA = Path(__file__).parent / "pseudonym_data"
_PLACEHOLDER = re.compile(r"\[(PERSON|CPR|TELEFON|EMAIL|ADRESSE)_(\d+)\]")
# On overlap the longer span wins; equal lengths go to the more specific type.
_PRIORITY = {"CPR": 0, "EMAIL": 1, "TELEFON": 2, "ADRESSE": 3, "PERSON": 4}

_UPPER = "A-ZÆØÅÄÖÜÉÈÁÀÓÍÚÇŠŽŁŚŻĆŃĘĄŞİĞ"
_LOWER = "a-zæøåäöüéèáàóíúçšžłśżćńęąşığ"


class PseudonymisedText(BaseModel):
    """A text with its personal data replaced, and the case's full pseudonym map after the call."""

    text: str
    entities: list[PseudonymEntity]


class DetectedEntity(BaseModel):
    """One span of personal data found in a text (character offsets into that text)."""

    start: int
    end: int
    entity_type: str
    text: str
    score: float = 1.0


# --- CPR --------------------------------------------------------------------------------------------------------

# DDMMYY, an optional dash or space, four digits; not glued to other digits or hex letters (ten digits inside a
# 32-character hex record id looked like a CPR number in ~0.1 % of ids), while "cpr0101901234" is still found.
# Read aloud, a CPR number is often transcribed in pairs ("01 01 90 12 34"), so single spaces between pairs count.
_CPR_SHAPE = r"(?<![\da-fA-F+])(\d{2}) ?(\d{2}) ?(\d{2})(?:\s?-\s?|\s)?(\d{2} ?\d{2})(?![\da-fA-F])"
_CPR_RE = re.compile(_CPR_SHAPE)


def _plausible_birth_date(day: int, month: int, year2: int) -> bool:
    # Modulus 11 is deliberately not checked: many CPR numbers issued since 2007 fail it.
    if not 1 <= month <= 12:
        return False
    days = calendar.monthrange(2000 + year2 if year2 % 4 == 0 else 2001, month)[1]
    return 1 <= day <= days


def _is_cpr(candidate: str) -> bool:
    match = _CPR_RE.fullmatch(candidate.strip())
    return bool(match) and _plausible_birth_date(int(match[1]), int(match[2]), int(match[3]))


def find_cpr_numbers(text: str, *, spoken: bool = True) -> list[str]:
    """Every CPR-shaped number in ``text`` with a plausible birth date: how tests and evals prove nothing leaked.

    Spoken numbers count ("nul et nul et halvfems en to tre fire"): the text is scanned after they are written as
    digits; ``spoken=False`` scans the digits alone, as the check did before.
    """
    scanned = normalise_spoken(text).text if spoken else text
    return [m[0] for m in _CPR_RE.finditer(scanned) if _plausible_birth_date(int(m[1]), int(m[2]), int(m[3]))]


class _CprRecognizer(PatternRecognizer):
    def validate_result(self, pattern_text: str) -> bool:
        return _is_cpr(pattern_text)


# --- phone numbers -----------------------------------------------------------------------------------------------

_PHONE_PREFIXED = r"(?<![\w+])(?:\+|00)\s?45[\s-]?(?:\d{2}[\s-]?\d{2}[\s-]?\d{2}[\s-]?\d{2}|\d{4}\s\d{4})(?!\d)"
# Danish numbers have 8 digits; a leading 0 is a time ("0800 1200"), so it is left out.
_PHONE_GROUPED = r"(?<![\w+.,/:-])(?:[1-9]\d(?:\s\d{2}){3}|[1-9]\d(?:-\d{2}){3}|[1-9]\d{3}\s\d{4})(?![\w]|[.,/:-]\d)"
_PHONE_BARE = r"(?<![\w+.,/:-])[1-9]\d{7}(?![\w]|[.,/:-]\d)"


_PHONE_CUE = re.compile(r"(?<![\w])(?:tlf|telefon|mobil|ring|nummer|kontakt|sms|fastnet|opkald)", re.IGNORECASE)


def _phone_cue(text: str, start: int) -> bool:
    """Whether a phone is mentioned in the words before ``start`` ("ring til hende på …", "hans nummer er …")."""
    return bool(_PHONE_CUE.search(" ".join(text[max(0, start - 80) : start].split()[-8:])))


_MEASUREMENT_CUE = re.compile(
    r"(?<![\w])(?:bs|blodsukker\w*|glukose|mmol\w*|værdi\w*|måling\w*|puls|bt|blodtryk|saturation\w*|temp\w*)",
    re.IGNORECASE,
)


def _measurement_cue(text: str, start: int) -> bool:
    """A series of measured values ("BS: 12 14 16 18") just before ``start`` is no phone number."""
    return bool(_MEASUREMENT_CUE.search(" ".join(text[max(0, start - 60) : start].split()[-3:])))


class _PhoneRecognizer(PatternRecognizer):
    def invalidate_result(self, pattern_text: str) -> bool:
        # An unspaced DDMMYYYY date, or two years ("2023 2024"), is likelier than a phone number shaped like one.
        if re.fullmatch(r"(?:19|20)\d\d\s(?:19|20)\d\d", pattern_text):
            return True
        if not re.fullmatch(r"\d{8}", pattern_text):
            return False
        day, month, year = int(pattern_text[:2]), int(pattern_text[2:4]), int(pattern_text[4:])
        return 1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


# --- e-mail ------------------------------------------------------------------------------------------------------

# Our own pattern: Presidio's EmailRecognizer validates with tldextract, which may fetch the suffix list online.
_EMAIL = r"(?<![\w.+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w])"


# --- word lists --------------------------------------------------------------------------------------------------


RecogniserVersion = Literal["speech", "baseline"]
# "speech": spoken forms normalised, names matched in any case, the large name lists and context rules (issue 15).
# "baseline": the recognisers as they were before, kept so `debrief eval` can show both side by side.
VERSIONS: tuple[RecogniserVersion, ...] = ("speech", "baseline")
# A lower-case word on the name lists counts as a name without a title before it only if this many people bear it.
_LOWER_CASE_MIN_COUNT = 100
# A town that this many people bear as a first name ("Flemming", "Tim") stays a name after "til" or "fra".
_PLACE_AS_FIRST_NAME_MIN_COUNT = 1000


@dataclass(frozen=True)
class WordLists:
    """The data files in ``assistant/pseudonym_data``."""

    first_names: frozenset[str]
    surnames: frozenset[str]
    ambiguous: frozenset[str]
    titles: frozenset[str]
    deny: frozenset[str]
    street_suffixes: tuple[str, ...]
    context: dict[str, list[str]]
    # Lower-cased, for transcripts without capitals: every listed name, the ambiguous ones, and those common
    # enough to count as a name with no title before them.
    folded_names: frozenset[str] = frozenset()
    folded_ambiguous: frozenset[str] = frozenset()
    folded_frequent: frozenset[str] = frozenset()
    # Lower-cased Danish towns and municipalities: after "i", "fra", "til" … a place, not a person.
    places: frozenset[str] = frozenset()


def _lines(name: str) -> list[str]:
    text = (_DATA / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _counted(name: str) -> dict[str, int]:
    """A "Name<TAB>count" file (name statistics) as a dict."""
    rows = (line.split("\t") for line in _lines(name))
    return {row[0]: int(row[1]) for row in rows if len(row) == 2}


@lru_cache(maxsize=2)
def word_lists(version: RecogniserVersion = "speech") -> WordLists:
    """The shipped name, title, deny and street-suffix lists, read once per version."""
    with (_DATA / "context_words.toml").open("rb") as fh:
        context = tomllib.load(fh)
    first, surnames = set(_lines("first_names.txt")), set(_lines("surnames.txt"))
    ambiguous = set(_lines("ambiguous_names.txt"))
    frequent: set[str] = set()
    places: frozenset[str] = frozenset()
    titles = _lines("titles.txt")
    if version == "speech":
        titles += _lines("more_titles.txt")
        counted_first, counted_surnames = _counted("dst_first_names.txt"), _counted("ku_surnames.txt")
        first |= set(counted_first)
        surnames |= set(counted_surnames)
        ambiguous |= set(_lines("common_word_names.txt"))
        frequent = {
            n for counts in (counted_first, counted_surnames) for n, c in counts.items() if c >= _LOWER_CASE_MIN_COUNT
        }
        frequent |= set(_lines("first_names.txt")) | set(_lines("surnames.txt"))
        first_name_places = {n for n, c in counted_first.items() if c >= _PLACE_AS_FIRST_NAME_MIN_COUNT}
        places = frozenset(p.casefold() for p in set(_lines("danish_places.txt")) - first_name_places)
    folded_ambiguous = frozenset(n.casefold() for n in ambiguous)
    if version == "speech":
        folded_ambiguous |= frozenset(w.casefold() for w in _lines("lower_case_words.txt"))
    return WordLists(
        first_names=frozenset(first),
        surnames=frozenset(surnames),
        ambiguous=frozenset(ambiguous),
        titles=frozenset(t.casefold().rstrip(".") for t in titles),
        deny=frozenset(w.casefold() for w in _lines("deny_words.txt")),
        street_suffixes=tuple(sorted({s.casefold() for s in _lines("street_suffixes.txt")}, key=len, reverse=True)),
        context=context,
        folded_names=frozenset(n.casefold() for n in first | surnames),
        folded_ambiguous=folded_ambiguous,
        folded_frequent=frozenset(n.casefold() for n in frequent) - folded_ambiguous,
        places=places,
    )


# --- addresses ---------------------------------------------------------------------------------------------------


def _address_regex(lists: WordLists) -> str:
    suffixes = lists.street_suffixes
    alternatives = "|".join(re.escape(s) for s in suffixes)
    # As a separate word only suffixes that are no surname: "Sofie Lund 2 mg" is not an address.
    standalone = [s[0].upper() + s[1:] for s in suffixes]
    capitalised = "|".join(re.escape(s) for s in standalone if s not in lists.surnames and s not in lists.first_names)
    word = rf"[{_UPPER}][{_LOWER}]+"
    # Up to three leading words: "Gl. Kongevej", "Hans Christian Andersens Boulevard".
    prefix = rf"(?:(?:{word}\.?|[{_UPPER}][{_LOWER}]*\.)\s+){{0,3}}"
    compound = rf"{word}(?:-{word})*(?:{alternatives})"  # "Nørrebrogade", "Bakkevænget"
    separate = rf"(?:{capitalised})"  # "Søndre Allé": the suffix as its own word
    number = r"\s+\d{1,4}[A-Za-z]?(?![\w])"
    floor = r"(?:,?\s*(?:\d{1,2}\.|st\.?|kl\.?|kld\.?)(?:\s*sal\b)?(?:,?\s*(?:tv|th|mf)\b\.?)?)?"
    postcode = rf"(?:,?\s*\d{{4}}\s+{word}(?:\s+{word})?(?:\s+[NSVØCK](?![\w]))?)?"
    return rf"(?<![\w]){prefix}(?:{compound}|{separate}){number}{floor}{postcode}"


class _AddressRecognizer(PatternRecognizer):
    def invalidate_result(self, pattern_text: str) -> bool:
        first = pattern_text.split()[0].rstrip(".").casefold()
        return first in word_lists().deny


# --- person names ------------------------------------------------------------------------------------------------

_TOKEN = re.compile(rf"[{_UPPER}{_LOWER}]+(?:['’-][{_UPPER}{_LOWER}]+)*")
_AFTER_TITLE_GAP = re.compile(r"^\.?,?\s+$")
_ABBREVIATIONS = {"kl", "ca", "nr", "evt", "pga", "bl", "dvs", "mht", "iflg", "jf", "gl", "st", "mg", "ml"}


@dataclass
class _Token:
    start: int
    end: int
    text: str
    sentence_start: bool
    after_title: bool
    glued_to_digit: bool = False  # "M2", "B12": a ward or a vitamin, not a name


def _tokens(text: str, titles: frozenset[str]) -> list[_Token]:
    tokens: list[_Token] = []
    previous_end, previous = 0, None
    for match in _TOKEN.finditer(text):
        gap = text[previous_end : match.start()]
        if previous is None:
            sentence_start = not re.search(r"\w", gap)
        else:
            sentence_start = bool(re.search(r"[.!?:;\n]", gap)) and previous.casefold() not in _ABBREVIATIONS
        after_title = previous is not None and previous.casefold() in titles and bool(_AFTER_TITLE_GAP.match(gap))
        glued = text[match.start() - 1 : match.start()].isdigit() or text[match.end() : match.end() + 1].isdigit()
        tokens.append(_Token(match.start(), match.end(), match[0], sentence_start, after_title, glued))
        previous_end, previous = match.end(), match[0]
    return tokens


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and not (len(word) > 1 and word.isupper())


# Letters and endings Danish words hardly have: an unknown lower-case word after a title with one is a name
# ("overlæge wierzbicki", "patienten jaroslav dvořák").
_FOREIGN_LETTERS = re.compile(r"[wqxzłśżćńęąşğıčřšžýőűđ]")
_FOREIGN_ENDINGS = ("ski", "ska", "icz", "ović", "ovic", "enko", "yan", "oglu", "oğlu", "poulos", "escu", "shvili")
_PLACE_WORDS = {"til", "fra", "i", "ved", "mod", "nær", "på", "over", "gennem"}
# Street words said after a genitive: "h c ørsteds vej", "Jens Baggesens Vej" name a street, not a person.
_STREET_WORDS = frozenset(w.casefold() for w in spoken_forms().address["separate_suffixes"])


class DanishNameRecognizer(LocalRecognizer):
    """Person names from shipped first-name and surname lists, titles ("sygeplejerske Mette") and surname endings.

    With ``speech`` the words of a transcript without capitals count too: a listed name after a title or role
    ("overlæge hansen"), a common listed name anywhere ("mette"), and a name that is also a word ("bo", "rask",
    "lund") only where the context says so: after a title, next to another name, in "X og <name>", or in
    "det var X der". A town after "i", "fra", "til" … is a place, and a genitive before a street word names a street.
    """

    def __init__(self, lists: WordLists, speech: bool = False):
        self.lists = lists
        self.speech = speech
        super().__init__(supported_entities=["PERSON"], supported_language=LANGUAGE, name="DanishNameRecognizer")

    def load(self) -> None:
        pass

    def _listed(self, word: str) -> bool:
        parts = word.split("-")
        return word in self.lists.first_names or word in self.lists.surnames or (
            len(parts) > 1 and all(_capitalised(p) for p in parts) and any(
                p in self.lists.first_names or p in self.lists.surnames for p in parts
            )
        )

    def _listed_any_case(self, word: str) -> bool:
        folded = word.casefold()
        return folded in self.lists.folded_names or (
            "-" in folded and any(p in self.lists.folded_names for p in folded.split("-") if len(p) > 2)
        )

    def _plain_word(self, word: str) -> bool:
        """Capitalised but certainly not a name: listed as denied, a stop word, or a street word such as "Allé"."""
        folded = word.casefold()
        return folded in self.lists.deny or folded in STOP_WORDS or folded in self.lists.street_suffixes

    def _never_a_name(self, word: str) -> bool:
        folded = word.casefold()
        return folded in self.lists.deny or folded in STOP_WORDS or folded in self.lists.titles or len(folded) < 2

    def _seed(self, token: _Token, previous: _Token | None = None) -> tuple[int, bool] | None:
        """(end, strong) when the token itself marks a name; end drops a genitive "s" ("Mettes" → "Mette")."""
        word = token.text
        after_place = previous is not None and previous.text.casefold() in _PLACE_WORDS and not token.after_title
        if self.speech and (len(word) < 2 or token.glued_to_digit):
            return None  # a single letter is an initial, never a name of its own
        if self.speech and not _capitalised(word):
            return self._lower_case_seed(token, after_place)
        if not _capitalised(word) or word.casefold() in self.lists.deny or word.casefold() in self.lists.titles:
            return None
        end = token.end
        if not self._listed(word) and word.endswith("s") and self._listed(word[:-1]):
            word, end = word[:-1], end - 1
        if self._listed(word):
            ambiguous = word in self.lists.ambiguous or (self.speech and word.casefold() in STOP_WORDS)
            place = self.speech and word.casefold() in self.lists.places
            if self.speech and (ambiguous or place) and after_place:
                return end, False  # "overflyttet til Lund/Herlev": a place unless another name stands beside it
            weak = (ambiguous or place) and token.sentence_start and not token.after_title
            return end, not weak
        if self._plain_word(word):
            return None
        if token.after_title:
            return end, True
        folded = word.casefold()
        if not token.sentence_start and len(word) >= 5 and folded.endswith(("sen", "gaard", "gård")) and not (
            # "til Styrelsen", "Hændelsen": a noun in -else with its article, or a place after "til", "fra" …
            self.speech and (folded.endswith("elsen") or after_place)
        ):
            return end, True
        return None

    def _lower_case_seed(self, token: _Token, after_place: bool = False) -> tuple[int, bool] | None:
        word = token.text
        if not word.islower() or self._never_a_name(word):
            return None
        end, folded = token.end, word.casefold()
        if not self._listed_any_case(folded) and folded.endswith("s") and self._listed_any_case(folded[:-1]):
            folded, end = folded[:-1], end - 1
        if self._listed_any_case(folded):
            if token.after_title:
                return end, True
            if after_place and folded in self.lists.places:
                return end, False  # "ude i ringsted"
            if folded in self.lists.folded_frequent or (len(folded) >= 5 and folded.endswith("sen")):
                return end, True
            return end, False
        if token.after_title and len(folded) >= 4 and (
            _FOREIGN_LETTERS.search(folded) or folded.endswith(_FOREIGN_ENDINGS)
        ):
            return end, True
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        tokens = _tokens(text, self.lists.titles)
        seeds = [self._seed(t, tokens[k - 1] if k else None) for k, t in enumerate(tokens)]
        if self.speech:
            seeds = self._by_context(tokens, seeds)
        results: list[RecognizerResult] = []
        i = 0
        while i < len(tokens):
            if seeds[i] is None:
                i += 1
                continue
            first, last = i, i
            # Grow over directly adjacent capitalised words: listed names, or unknown words that are not plain words.
            while last + 1 < len(tokens) and last - first < 3 and self._joins(text, tokens, seeds, last, last + 1):
                last += 1
            if first > 0 and seeds[first - 1] is None and self._joins_before(text, tokens, first):
                first -= 1
            named = sum(1 for k in range(first, last + 1) if seeds[k] is not None or self._listed(tokens[k].text)
                        or (self.speech and self._listed_any_case(tokens[k].text)))
            capitals = not self.speech or any(_capitalised(tokens[k].text) for k in range(first, last + 1))
            street = self._street_word_after(text, tokens, last) if self.speech else None
            if street is not None:
                i = street + 1  # the street word too: "Vej" is also a surname
                continue
            if any(s and s[1] for s in seeds[first : last + 1]) or (named > 1 and capitals):
                end = seeds[last][0] if seeds[last] else tokens[last].end
                results.append(
                    RecognizerResult(
                        "PERSON", tokens[first].start, end, 0.85,
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        },
                    )
                )
            i = last + 1
        return results

    @staticmethod
    def _street_word_after(text: str, tokens: list[_Token], last: int) -> int | None:
        """The index of a street word after a genitive that ends the name at ``last`` ("Ørsteds Vej", "jens
        baggesens vej 4"): the name's words then name a street, not a person. None when there is none."""
        k = last
        if (k + 2 < len(tokens) and not tokens[k].text.casefold().endswith("s")
                and tokens[k + 1].text.casefold() not in STOP_WORDS and _adjacent(text, tokens[k], tokens[k + 1])):
            k += 1  # "jens | baggesens vej": the genitive was not part of the name found ("mette langs" is no street)
        if not (k + 1 < len(tokens) and tokens[k].text.casefold().endswith("s")
                and tokens[k + 1].text.casefold() in _STREET_WORDS and _adjacent(text, tokens[k], tokens[k + 1])):
            return None
        street = tokens[k + 1]
        # A street's own word is capitalised ("Jens Baggesens Vej"); in lower case only a house number tells it
        # from "mette hansens vej hjem".
        return k + 1 if _capitalised(street.text) or re.match(r"\s+\d", text[street.end :]) else None

    def _by_context(self, tokens: list[_Token], seeds: list) -> list:
        """Weak names made sure by their neighbours: "ahmed og line", "det var frank der kørte"."""
        words = [t.text.casefold() for t in tokens]
        out = list(seeds)

        def sure(j: int) -> bool:  # a sure name starts at j ("hans hansen": the surname makes it sure)
            return 0 <= j < len(seeds) and seeds[j] is not None and (
                seeds[j][1] or (j + 1 < len(seeds) and seeds[j + 1] is not None and seeds[j + 1][1])
            )

        for k, seed in enumerate(seeds):
            if seed is None or seed[1]:
                continue
            coordinated = any(0 <= j < len(tokens) and words[(k + j) // 2] == "og" and sure(j) for j in (k - 2, k + 2))
            cleft = (k >= 2 and words[k - 2 : k] == ["det", "var"] and k + 1 < len(tokens)
                     and words[k + 1] in ("der", "som", "fra"))
            if coordinated or cleft:
                out[k] = (seed[0], True)
        return out

    def _joins(self, text: str, tokens: list[_Token], seeds: list, left: int, right: int) -> bool:
        """Whether the next word continues the name: "Mette Kjærsgaard", "Poul Erik Andersen"."""
        b = tokens[right]
        if seeds[left] and seeds[left][0] < tokens[left].end:  # a genitive ends the name: "Mettes dosis"
            return False
        if not _adjacent(text, tokens[left], b) or b.text.casefold() in self.lists.deny:
            return False
        if self.speech and not _capitalised(b.text):
            # "karen marie holm", "mohammed al-sayed", "tran thi mai": listed or foreign-looking words join
            return b.text.islower() and not self._never_a_name(b.text) and (
                self._listed_any_case(b.text) or bool(_FOREIGN_LETTERS.search(b.text.casefold()))
                or (b.text.startswith("al-") and len(b.text) > 4)
            ) and not _capitalised(tokens[left].text)
        if not _capitalised(b.text):
            return False
        return seeds[right] is not None or self._listed(b.text) or not self._plain_word(b.text)

    def _joins_before(self, text: str, tokens: list[_Token], first: int) -> bool:
        """An unknown word just before a name joins it ("Gunhild Petersen"), but never a sentence's first word."""
        a = tokens[first - 1]
        return (
            _adjacent(text, a, tokens[first])
            and _capitalised(a.text)
            and not a.sentence_start
            and not self._plain_word(a.text)
        )


def _adjacent(text: str, left: _Token, right: _Token) -> bool:
    return re.fullmatch(r"[ \t\u00a0]+", text[left.end : right.start]) is not None


# --- the engine --------------------------------------------------------------------------------------------------


class _BlankDanishNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine over a blank Danish pipeline saved in the cache (no NER, no lemmatiser)."""

    def __init__(self, model_dir: Path):
        super().__init__(models=[{"lang_code": LANGUAGE, "model_name": str(model_dir)}])
        self.model_dir = model_dir

    def load(self) -> None:
        folder = _blank_pipeline(self.model_dir)
        self.nlp = {LANGUAGE: spacy.load(folder) if folder else spacy.blank(LANGUAGE)}

    def _doc_to_nlp_artifact(self, doc, language: str) -> NlpArtifacts:
        artifacts = super()._doc_to_nlp_artifact(doc, language)
        # A blank pipeline has no lemmas; lower-cased words let the context enhancer still compare words.
        artifacts.lemmas = [t.lemma_ or t.lower_ for t in doc]
        artifacts.keywords = NlpArtifacts.set_keywords(self, artifacts.lemmas, language)
        return artifacts


def _blank_pipeline(model_dir: Path) -> Path | None:
    """Write ``spacy.blank("da")`` to ``model_dir`` once (atomically); None when the cache is not writable."""
    if (model_dir / "config.cfg").is_file():
        return model_dir
    try:
        model_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{model_dir.name}-", dir=model_dir.parent))
        spacy.blank(LANGUAGE).to_disk(staging)
        try:
            staging.rename(model_dir)
        except OSError:  # another process finished first
            shutil.rmtree(staging, ignore_errors=True)
    except OSError:
        return None
    return model_dir


def _recognisers(lists: WordLists, version: RecogniserVersion) -> list:
    context = lists.context
    speech = version == "speech"
    spoken = [SpokenAddressRecognizer(context["ADRESSE"])] if speech else []
    return spoken + [
        _CprRecognizer(
            "CPR", name="DanishCprRecognizer", supported_language=LANGUAGE,
            patterns=[Pattern("cpr", _CPR_SHAPE, 0.6)], context=context["CPR"],
        ),
        _PhoneRecognizer(
            "TELEFON", name="DanishPhoneRecognizer", supported_language=LANGUAGE,
            patterns=[
                Pattern("phone_prefixed", _PHONE_PREFIXED, 0.9),
                Pattern("phone_grouped", _PHONE_GROUPED, 0.7),
                Pattern("phone_bare", _PHONE_BARE, 0.6),
            ],
            context=context["TELEFON"],
        ),
        PatternRecognizer(
            "EMAIL", name="EmailRecognizerOffline", supported_language=LANGUAGE,
            patterns=[Pattern("email", _EMAIL, 0.9)], context=context["EMAIL"],
        ),
        _AddressRecognizer(
            "ADRESSE", name="DanishAddressRecognizer", supported_language=LANGUAGE,
            patterns=[Pattern("street_and_number", _address_regex(lists), 0.7)],
            context=context["ADRESSE"], global_regex_flags=re.MULTILINE,
        ),
        DanishNameRecognizer(lists, speech=speech),
    ]


_ENGINE_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _analyzer(models_dir: Path, version: RecogniserVersion = "speech") -> AnalyzerEngine:
    lists = word_lists(version)
    registry = RecognizerRegistry(recognizers=_recognisers(lists, version), supported_languages=[LANGUAGE])
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=_BlankDanishNlpEngine(models_dir / f"spacy-blank-da-{spacy.__version__}"),
        supported_languages=[LANGUAGE],
        default_score_threshold=SCORE_THRESHOLD,
        context_aware_enhancer=LemmaContextAwareEnhancer(),
    )


def analyzer(settings: Settings, version: RecogniserVersion = "speech") -> AnalyzerEngine:
    """The shared Presidio engine for these settings (built once per process; it is called per segment)."""
    with _ENGINE_LOCK:
        return _analyzer(settings.models_dir, version)


# --- placeholders and the case map -------------------------------------------------------------------------------


def _digits(original: str) -> str:
    """The digits of a number, also when it was said in words."""
    digits = re.sub(r"\D", "", original)
    return digits if digits else re.sub(r"\D", "", normalise_spoken(original).text)


def _normalised(entity_type: str, original: str) -> str:
    if entity_type == "CPR":
        return _digits(original)
    if entity_type == "TELEFON":
        digits = _digits(original)
        return digits[-8:] if len(digits) > 8 else digits  # "+45 12 34 56 78" is "12345678"
    return " ".join(original.casefold().replace(",", " ").split())


class _CaseMap:
    """Placeholder per normalised original, continuing the numbering of the map already stored for the case."""

    def __init__(self, known: list[PseudonymEntity] | None, version: RecogniserVersion = "speech"):
        self.version = version
        self.entities = [e.model_copy() for e in known or []]
        self.by_key = {(e.entity_type, _normalised(e.entity_type, e.original)): e.placeholder for e in self.entities}
        self.counters = dict.fromkeys(ENTITY_TYPES, 0)
        for e in self.entities:
            match = _PLACEHOLDER.fullmatch(e.placeholder)
            if match:
                self.counters[match[1]] = max(self.counters.get(match[1], 0), int(match[2]))

    def placeholder(self, entity_type: str, original: str) -> str:
        key = (entity_type, _normalised(entity_type, original))
        if key not in self.by_key:
            self.by_key[key] = self._same_person(original) if entity_type == "PERSON" else None
        if self.by_key[key] is None:
            self.counters[entity_type] = self.counters.get(entity_type, 0) + 1
            placeholder = f"[{entity_type}_{self.counters[entity_type]}]"
            self.by_key[key] = placeholder
            self.entities.append(PseudonymEntity(placeholder=placeholder, entity_type=entity_type, original=original))
        return self.by_key[key]

    def _same_person(self, original: str) -> str | None:
        # A lone "Mette" after "Mette Kjærsgaard" is the same person, when only one known full name fits.
        words = original.split()
        if len(words) != 1:
            return None
        word = words[0].casefold()
        fits = {
            e.placeholder
            for e in self.entities
            if e.entity_type == "PERSON" and len(e.original.split()) > 1
            and word in (e.original.split()[0].casefold(), e.original.split()[-1].casefold())
        }
        return fits.pop() if len(fits) == 1 else None

    def known_name_patterns(self) -> list[re.Pattern]:
        """Known names, to catch them again where no recogniser would (a surname seen once after a title)."""
        lists = word_lists(self.version)
        speech = self.version == "speech"
        names: set[str] = set()
        for e in self.entities:
            if e.entity_type != "PERSON":
                continue
            if len(e.original.split()) > 1 or not speech:
                names.add(e.original)
            # A word that is also an ordinary word ("Rask", "Lund", "bo") never spreads on its own.
            names.update(
                w for w in e.original.split()
                if len(w) >= 3 and w not in lists.ambiguous and w.casefold() not in lists.deny
                and (_capitalised(w) or (speech and w.islower()))
                and not (speech and (w.casefold() in lists.folded_ambiguous or w.casefold() in STOP_WORDS
                                     or w.casefold() in lists.places))
            )
        # Whole names match in any case ("JENS HANSEN"); single words only as written, so "hans" stays a pronoun
        # (with the speech recognisers a single word that is no ordinary word matches in any case: "hansen").
        return [
            re.compile(
                r"(?<![\w\[])" + r"\s+".join(map(re.escape, n.split())) + r"(?![\w\]])",
                re.IGNORECASE if len(n.split()) > 1 or speech else 0,
            )
            for n in sorted(names, key=len, reverse=True)
        ]


def _resolve_overlaps(found: list[DetectedEntity]) -> list[DetectedEntity]:
    chosen: list[DetectedEntity] = []
    for entity in sorted(found, key=lambda e: (-(e.end - e.start), _PRIORITY.get(e.entity_type, 9), e.start)):
        if all(entity.end <= c.start or entity.start >= c.end for c in chosen):
            chosen.append(entity)
    return sorted(chosen, key=lambda e: e.start)


class Pseudonymiser:
    """Finds personal data and swaps it for placeholders that stay consistent across a whole case.

    ``version`` "speech" (the default) reads spoken numbers, e-mail addresses and lower-case names; "baseline" is
    the older recognisers, kept for side-by-side evaluation.
    """

    def __init__(self, settings: Settings | None = None, version: RecogniserVersion = "speech"):
        self.settings = settings or get_settings()
        self.version = version
        self.engine = analyzer(self.settings, version)

    def _analyse(self, text: str) -> list[DetectedEntity]:
        if not text.strip():
            return []
        placeholders = [m.span() for m in _PLACEHOLDER.finditer(text)]
        spoken = normalise_spoken(text) if self.version == "speech" else None
        found = []
        for r in self.engine.analyze(text=spoken.text if spoken else text, language=LANGUAGE,
                                     score_threshold=SCORE_THRESHOLD):
            start, end = r.start, r.end
            written = spoken.text if spoken else text
            if r.entity_type == "TELEFON" and spoken and (
                # "tolv fjorten seksten atten" is a blood-sugar series unless a phone is mentioned before it
                (spoken.said_in_words(start, end) and not _phone_cue(written, start))
                or _measurement_cue(written, start)
            ):
                continue
            if spoken:
                start, end = spoken.to_original(start, end)
            # Placeholders from an earlier pass are never personal data themselves.
            if any(start < p_end and end > p_start for p_start, p_end in placeholders):
                continue
            original = text[start:end]
            if not original.strip():
                continue
            found.append(DetectedEntity(start=start, end=end, entity_type=r.entity_type, text=original, score=r.score))
        return found

    def _detect_all(self, texts: list[str], case: _CaseMap) -> list[list[DetectedEntity]]:
        """Spans to replace in each text, registering every new original in ``case``.

        All texts are analysed first, so a name found late ("overlæge Wierzbicki") is also replaced where it stood
        alone earlier; full names are registered before lone words, so "Mette" can join "Mette Kjærsgaard".
        """
        analysed = [_resolve_overlaps(self._analyse(text)) for text in texts]
        found = [e for entities in analysed for e in entities]
        is_lone = [e.entity_type == "PERSON" and len(e.text.split()) == 1 for e in found]
        ordered = [e for e, lone in zip(found, is_lone) if not lone] + [e for e, lone in zip(found, is_lone) if lone]
        for entity in ordered:
            case.placeholder(entity.entity_type, entity.text)
        patterns = case.known_name_patterns()
        spans = []
        for text, entities in zip(texts, analysed, strict=True):
            extra = [
                DetectedEntity(start=m.start(), end=m.end(), entity_type="PERSON", text=m[0], score=SCORE_THRESHOLD)
                for pattern in patterns
                for m in pattern.finditer(text)
            ]
            spans.append(_resolve_overlaps(entities + extra))
        return spans

    def detect(self, text: str, known: list[PseudonymEntity] | None = None) -> list[DetectedEntity]:
        """The spans that :meth:`pseudonymise` would replace in ``text`` (used by the evaluation)."""
        return self._detect_all([text], _CaseMap(known, self.version))[0]

    def pseudonymise(self, text: str, known: list[PseudonymEntity] | None = None) -> PseudonymisedText:
        """``text`` with personal data replaced; ``entities`` is the case's whole map (``known`` plus new ones)."""
        texts, entities = self.pseudonymise_many([text], known)
        return PseudonymisedText(text=texts[0], entities=entities)

    def pseudonymise_many(
        self, texts: list[str], known: list[PseudonymEntity] | None = None
    ) -> tuple[list[str], list[PseudonymEntity]]:
        """All texts of one case (e.g. transcript segments) under one map, so a person keeps one placeholder."""
        case = _CaseMap(known, self.version)
        out = []
        for text, spans in zip(texts, self._detect_all(texts, case), strict=True):
            for entity in reversed(spans):
                text = text[: entity.start] + case.placeholder(entity.entity_type, entity.text) + text[entity.end :]
            out.append(text)
        return out, case.entities
