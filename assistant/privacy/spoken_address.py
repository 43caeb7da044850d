"""Street addresses as a speech recogniser writes them: lower case, floor and side in words.

"nørrebrogade 112 tredje sal til venstre", "parkvej 21 b 5000 odense c", "h c ørsteds vej 50". It runs on the
text after :mod:`assistant.privacy.spoken_text` has turned the numbers into digits.
"""

from __future__ import annotations

import re
from functools import lru_cache

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.lang.da.stop_words import STOP_WORDS

from assistant.privacy.spoken_numbers import alternatives, spoken_forms


@lru_cache(maxsize=1)
def spoken_address_pattern() -> re.Pattern:
    """Street name, house number, optional floor and side, optional postcode and town; any case."""
    address = spoken_forms().address
    letters = r"[^\W\d_]"
    compound = rf"{letters}{{2,}}(?:{alternatives(address['street_suffixes'])})"
    # Initials before the name, spoken or written: "h c ørsteds vej", "H.C. Andersens Boulevard".
    initials = rf"(?:{letters}\.\s?)*"
    separate = rf"{initials}(?:{letters}+\s+){{1,3}}(?:{alternatives(address['separate_suffixes'])})"
    # Five or six digits after a street name are a house number and a postcode said as one number ("østergade
    # tolv tusind to hundrede fyrre" is written 12240): no Danish house number has five digits.
    number = r"\s+(?:\d{1,4}(?:\s?[a-h])?|\d{5,6})(?![\w])"
    floor_word = rf"(?:{alternatives(address['floor_words'])})"
    ordinal = rf"(?:{alternatives(address['ordinal_floors'])}|\d{{1,2}}\.?)"
    floor = (rf"(?:,?\s*(?:{ordinal}\s*{floor_word}|{letters}+sal|\d{{1,2}}\.|"
             rf"(?:{alternatives(address['ground_floor'])})\.?)(?![\w]))?")
    side = rf"(?:,?\s*(?:{alternatives(address['sides'])})(?![\w])\.?)?"
    postcode = rf"(?:,?\s*(?:i\s+)?\d{{4}}\s+{letters}+(?:\s+[nsvøck](?![\w]))?)?"
    return re.compile(rf"(?<![\w])(?:{compound}|{separate}){number}{floor}{side}{postcode}", re.IGNORECASE)


class SpokenAddressRecognizer(LocalRecognizer):
    """Addresses in lower-case transcripts; leading words such as "bor på" are left outside the span."""

    def __init__(self, lead_words: list[str]):
        self.lead_words = {w.casefold() for w in lead_words} | set(STOP_WORDS)
        super().__init__(supported_entities=["ADRESSE"], supported_language="da", name="SpokenAddressRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None) -> list:
        results = []
        for match in spoken_address_pattern().finditer(text):
            start = match.start()
            for word in re.finditer(r"\S+", match[0]):
                if word[0].casefold() not in self.lead_words:
                    break
                start = match.start() + word.end() + 1
            # A street has a name of two letters or more, perhaps after initials ("h c ørsteds vej").
            if not re.match(r"(?:[^\W\d_]\.?\s*){0,3}[^\W\d_]{2,}", text[start:]):
                continue
            results.append(RecognizerResult("ADRESSE", start, match.end(), 0.7, recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
        return results
