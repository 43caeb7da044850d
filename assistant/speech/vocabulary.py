"""Words the recogniser is told to expect: ISBAR, high-risk drug names and the team's unit names.

Whisper base rarely hears Danish clinical words and spells them by ear ("metotreksat"); naming them in the decoder's
prompt makes the right spelling more likely. The vocabulary is built from a fixed list
(``data/clinical_vocabulary_da.txt``) and unit names only, never from what was said in a case, so it cannot carry
a person's name or number from one case into another.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from assistant.settings import Settings

log = logging.getLogger(__name__)

VOCABULARY_FILE = Path(__file__).parent / "data" / "clinical_vocabulary_da.txt"
# Whisper's decoder holds 448 tokens; faster-whisper keeps at most 223 of hot words, and every prompt token is
# room taken from the text of a 30-second window. 400 characters are about 160 tokens of Danish (counted with
# Whisper's tokenizer in tests/speech/test_vocabulary.py), which leaves ~280 for a window's text. On the espeak-ng
# sets 400 got 5 of 20 clinical words right against 1 of 20 with 180 (docs/evaluation.md).
MAX_CHARACTERS = 400
# The case's own unit and at most two other recent ones: enough to spell the team's words right, few enough that
# another team's unit name seldom turns up in a transcript it was never said in.
MAX_UNITS = 3
# A unit name is a short name made of letters ("Akutmodtagelsen", "Afsnit B3"): anything longer or with
# digits in a row is free text that may hold a person or a number, and stays out.
_LETTER = "A-Za-zÆØÅæøåÉéÜü"
_UNIT_SHAPE = re.compile(rf"^[{_LETTER}][{_LETTER} .\-/&]{{1,38}}[{_LETTER}0-9.]?$")
_MAX_UNIT_WORDS = 4


class DecoderVocabulary(BaseModel):
    """The terms handed to the decoder, and how (``hotwords``: every window; ``prompt``: the first)."""

    mode: Literal["prompt", "hotwords"]
    terms: list[str]

    @property
    def provenance(self) -> str:
        """What a transcript's ``model_id`` adds, so a reader knows the decoder was given words to expect."""
        return f"+vocabulary:{self.mode}"

    @property
    def text(self) -> str:
        """The terms as one comma-separated line, the form Whisper's prompt reads as a list of names."""
        return ", ".join(self.terms)


@lru_cache(maxsize=4)
def clinical_terms(path: Path = VOCABULARY_FILE) -> tuple[str, ...]:
    """The fixed list's terms in priority order (comments and blank lines left out)."""
    terms = []
    for line in path.read_text("utf-8").splitlines():
        term = line.split("#", 1)[0].strip()
        if term and term not in terms:
            terms.append(term)
    return tuple(terms)


def is_unit_name(text: str) -> bool:
    """Whether ``text`` has the shape of a unit's name (short, letters, at most one trailing digit group)."""
    text = text.strip()
    return bool(_UNIT_SHAPE.match(text)) and len(text.split()) <= _MAX_UNIT_WORDS and not re.search(r"\d{2,}", text)


def decoder_vocabulary(settings: Settings, units: Iterable[str] = ()) -> DecoderVocabulary | None:
    """The vocabulary for one recording: ``units`` first (the case's own first), then the fixed list, in budget.

    None when the setting is off. A list that cannot be read gives the units alone (logged), never an error.
    """
    if settings.asr_vocabulary == "off":
        return None
    chosen: list[str] = []
    for unit in units:
        unit = " ".join(str(unit).split())
        if len(chosen) < MAX_UNITS and is_unit_name(unit) and unit.lower() not in {c.lower() for c in chosen}:
            chosen.append(unit)
    try:
        fixed = clinical_terms()
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("clinical vocabulary not read (%s); transcribing with the unit names only", exc)
        fixed = ()
    size = len(", ".join(chosen))
    for term in fixed:
        if term.lower() in {c.lower() for c in chosen}:
            continue
        if size + len(term) + 2 > MAX_CHARACTERS:
            break
        chosen.append(term)
        size = len(", ".join(chosen))
    if not chosen:
        return None
    return DecoderVocabulary(mode=settings.asr_vocabulary, terms=chosen)
