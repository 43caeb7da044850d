"""Danish number words as a speech recogniser writes them, turned into digits.

"nul et nul et halvfems en to tre fire" is a CPR number read digit by digit and in pairs; "tolv fireogtredive
seksoghalvtreds otteoghalvfjerds" a phone number; "nørrebrogade hundrede og tolv" an address. This module only
finds such runs of number words and says which digits they stand for; :mod:`assistant.privacy.spoken_text` puts
them into the text and keeps the way back to the spoken words.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel

_DATA = Path(__file__).parent / "pseudonym_data" / "spoken_forms.toml"
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_CPR_CUE = re.compile(r"(?<![\w])(?:cpr|personnummer|personnr|født|fødselsdato)", re.IGNORECASE)


class Replacement(BaseModel):
    """Characters ``start:end`` of a text, to be read as ``text``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class SpokenForms:
    """The word lists in ``pseudonym_data/spoken_forms.toml``."""

    units: dict[str, int]
    tens: dict[str, int]
    multipliers: dict[str, int]
    ordinals: dict[str, int]
    months: dict[str, int]
    cpr_dash: frozenset[str]
    email: dict[str, list[str]]
    address: dict[str, list[str]]


def alternatives(words: list[str]) -> str:
    """A regex alternation of ``words``, longest first (so "punktum dk" wins over "punktum"), any spacing inside."""
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


@lru_cache(maxsize=1)
def spoken_forms() -> SpokenForms:
    """The shipped number, month and symbol words, read once."""
    with _DATA.open("rb") as fh:
        data = tomllib.load(fh)
    return SpokenForms(
        units=data["units"], tens=data["tens"], multipliers=data["multipliers"], ordinals=data["ordinals"],
        months=data["months"], cpr_dash=frozenset(data["cpr"]["dash"]), email=data["email"], address=data["address"],
    )


@dataclass
class _Token:
    start: int
    end: int
    word: str  # lower case


@dataclass
class _Group:
    """One number as said: "fireogtredive" (34, small) or "hundrede og tolv" (112, big)."""

    first: int  # token indexes, inclusive
    last: int
    value: int
    big: bool

    def digits(self) -> str:
        return str(self.value)


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.start(), m.end(), m[0].casefold()) for m in _WORD.finditer(text)]


def _joined(text: str, a: _Token, b: _Token) -> bool:
    """Two words belong to one spoken number only when nothing but spaces lies between them."""
    return text[a.end : b.start].strip(" \t") == ""


class _Parser:
    def __init__(self, text: str, tokens: list[_Token]):
        self.forms = spoken_forms()
        self.text, self.tokens = text, tokens
        tens = "|".join(self.forms.tens)
        units = "|".join(w for w, v in self.forms.units.items() if 1 <= v <= 9)
        self.compound = re.compile(rf"({units})og({tens})")

    def word(self, i: int) -> str | None:
        return self.tokens[i].word if 0 <= i < len(self.tokens) else None

    def next_joined(self, i: int) -> bool:
        return i + 1 < len(self.tokens) and _joined(self.text, self.tokens[i], self.tokens[i + 1])

    def below_hundred(self, i: int) -> tuple[int, int] | None:
        """(value, last token) of a number 0–99 starting at token ``i``."""
        word = self.word(i)
        if word is None:
            return None
        if word in self.forms.tens:
            return self.forms.tens[word], i
        match = self.compound.fullmatch(word)
        if match:
            return self.forms.units[match[1]] + self.forms.tens[match[2]], i
        if word in self.forms.units:
            value = self.forms.units[word]
            # "et og halvtreds": a compound written as three words
            if 1 <= value <= 9 and self.next_joined(i) and self.word(i + 1) == "og" and self.next_joined(i + 1):
                tens = self.word(i + 2)
                if tens in self.forms.tens:
                    return value + self.forms.tens[tens], i + 2
            return value, i
        return None

    def group(self, i: int) -> _Group | None:
        """The number said from token ``i`` on, thousands and hundreds included."""
        total, last, big = 0, i - 1, False
        for multiplier in (1000, 100):
            start = last + 1
            if big and self.word(start) == "og" and self.next_joined(last) and self.next_joined(start):
                start += 1
            head = self.below_hundred(start) if start == last + 1 or self.next_joined(start - 1) else None
            said = self.forms.multipliers.get
            if head and self.next_joined(head[1]) and said(self.word(head[1] + 1) or "") == multiplier:
                total, last, big = total + head[0] * multiplier, head[1] + 1, True
            elif said(self.word(start) or "") == multiplier and (start == i or self.next_joined(start - 1)):
                total, last, big = total + multiplier, start, True
        if not big:
            small = self.below_hundred(i)
            return _Group(i, small[1], small[0], False) if small else None
        rest = last + 1
        if self.word(rest) == "og" and self.next_joined(last) and self.next_joined(rest):
            rest += 1
        if self.next_joined(rest - 1):
            tail = self.below_hundred(rest)
            if tail:
                total, last = total + tail[0], tail[1]
        return _Group(i, last, total, True)


def _render(groups: list[_Group]) -> str:
    """Digits said one or two at a time run together ("0101901234"); a number with hundreds stands alone."""
    parts: list[str] = []
    glued = False
    for group in groups:
        if group.big:
            parts.append(group.digits())
            glued = False
        elif glued:
            parts[-1] += group.digits()
        else:
            parts.append(group.digits())
            glued = True
    return " ".join(parts)


def _runs(text: str, tokens: list[_Token]) -> list[list[_Group]]:
    parser = _Parser(text, tokens)
    runs: list[list[_Group]] = []
    i = 0
    while i < len(tokens):
        group = parser.group(i)
        if group is None:
            i += 1
            continue
        run = [group]
        while parser.next_joined(run[-1].last):
            following = parser.group(run[-1].last + 1)
            if following is None:
                break
            run.append(following)
        runs.append(run)
        i = run[-1].last + 1
    return runs


def _is_article(text: str, tokens: list[_Token], run: list[_Group]) -> bool:
    # A lone "en"/"et" is an article far more often than the number one.
    return len(run) == 1 and run[0].first == run[0].last and tokens[run[0].first].word in ("en", "et", "een")


def number_replacements(text: str) -> list[Replacement]:
    """Where ``text`` says a number in words, and the digits it stands for (runs of digits run together)."""
    forms = spoken_forms()
    tokens = _tokens(text)
    runs = [r for r in _runs(text, tokens) if not _is_article(text, tokens, r)]
    out = [Replacement(start=tokens[r[0].first].start, end=tokens[r[-1].last].end, text=_render(r)) for r in runs]
    out = _birth_dates(text, tokens, out, forms)
    return _dashes_and_plus(text, tokens, out, forms)


def _birth_dates(text: str, tokens: list[_Token], found: list[Replacement], forms: SpokenForms) -> list[Replacement]:
    """A birth date said as a date and four digits ("femten marts toogfyrre streg to tre fire fem") as DDMMYY-NNNN."""
    out: list[Replacement] = []
    used: set[int] = set()
    for i, token in enumerate(tokens):
        month = forms.months.get(tokens[i + 1].word) if i + 1 < len(tokens) else None
        if month is None or not _joined(text, token, tokens[i + 1]):
            continue
        day_rep = next((r for r in found if r.end == token.end and r.text.isdigit() and len(r.text) <= 2), None)
        day = forms.ordinals.get(token.word) or (int(day_rep.text) if day_rep else None)
        if not day or not 1 <= day <= 31:
            continue
        start = day_rep.start if day_rep else token.start
        month_end = tokens[i + 1].end
        year = next((r for r in found if r.start > month_end and _gap_words(text, month_end, r.start) == 0), None)
        if year is None or not year.text.replace(" ", "").isdigit():
            continue
        year_digits, year_words = year.text.replace(" ", ""), text[year.start : year.end].casefold()
        if len(year_digits) == 6:  # "niogtres ni otte syv seks": the year and the last four said as one run
            cpr = f"{day:02d}{month:02d}{year_digits[:2]}-{year_digits[2:]}"
            out.append(Replacement(start=start, end=year.end, text=cpr))
            used.update({id(year)} | ({id(day_rep)} if day_rep else set()))
            continue
        # "nitten halvfems" (1990) or "halvfems", then four digits, perhaps after "streg" or a few words
        # Filler words ("og de sidste fire er") only where the CPR number is announced.
        allowed_gap = 6 if _CPR_CUE.search(text[max(0, start - 60) : start]) else 0
        four = next((r for r in found if r.start > year.end and len(r.text.replace(" ", "")) == 4
                     and r.text.replace(" ", "").isdigit()
                     and _gap_words(text, year.end, r.start, allowed=forms.cpr_dash) <= allowed_gap), None)
        said_as_pairs = len(year_digits) == 2 or (year_digits[:2] in ("19", "20") and "tusind" not in year_words)
        if len(year_digits) in (2, 4) and said_as_pairs and four is not None:
            cpr = f"{day:02d}{month:02d}{year_digits[-2:]}-{four.text.replace(' ', '')}"
            out.append(Replacement(start=start, end=four.end, text=cpr))
            used.update({id(year), id(four)} | ({id(day_rep)} if day_rep else set()))
    kept = [r for r in found if id(r) not in used and not any(o.start <= r.start < o.end for o in out)]
    return sorted(kept + out, key=lambda r: r.start)


def _gap_words(text: str, start: int, end: int, allowed: frozenset[str] = frozenset()) -> int:
    """How many words lie between two offsets, not counting ``allowed`` ones; 99 across a sentence end."""
    gap = text[start:end]
    if re.search(r"[.!?;]", gap):
        return 99
    return sum(1 for w in _WORD.findall(gap) if w.casefold() not in allowed)


def _dashes_and_plus(
    text: str, tokens: list[_Token], found: list[Replacement], forms: SpokenForms
) -> list[Replacement]:
    """"030468 streg 4567" becomes one CPR number; "plus 45…" a prefixed phone number."""
    out: list[Replacement] = []
    for rep in found:
        previous = out[-1] if out else None
        if (previous and previous.text.isdigit() and len(previous.text) == 6 and rep.text.isdigit()
                and len(rep.text) == 4 and _gap_words(text, previous.end, rep.start) == 1
                and text[previous.end : rep.start].strip().casefold() in forms.cpr_dash):
            out[-1] = Replacement(start=previous.start, end=rep.end, text=f"{previous.text}-{rep.text}")
            continue
        before = text[: rep.start].rstrip()
        if re.search(r"(?<![\w])plus$", before, re.IGNORECASE) and rep.text.replace(" ", "").startswith("45"):
            rep = Replacement(start=len(before) - 4, end=rep.end, text="+" + rep.text)
        out.append(rep)
    return out
