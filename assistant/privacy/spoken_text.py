"""A transcript with spoken numbers and e-mail addresses written the usual way, and the way back to what was said.

The recognisers run on the written form ("cpr 0101901234", "mette.hansen@rm.dk"); each span they find is mapped
back onto the original words, so the placeholder replaces "nul et nul et halvfems en to tre fire" itself.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import BaseModel

from assistant.privacy.spoken_numbers import Replacement, alternatives, number_replacements, spoken_forms


class SpokenText(BaseModel):
    """``text`` is the written form of ``original``; character ``i`` of it came from ``starts[i]:ends[i]``."""

    original: str
    text: str
    starts: list[int]
    ends: list[int]
    rewritten: list[tuple[int, int]] = []  # spans of ``text`` that were said in words

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The span of ``original`` that a span of ``text`` came from."""
        if not self.text or start >= end:
            return start, end
        return self.starts[start], self.ends[end - 1]

    def said_in_words(self, start: int, end: int) -> bool:
        """Whether the span of ``text`` lies in a stretch that was said in words."""
        return any(s <= start and end <= e for s, e in self.rewritten)


def _identity(text: str) -> SpokenText:
    return SpokenText(original=text, text=text, starts=list(range(len(text))), ends=list(range(1, len(text) + 1)))


def _apply(spoken: SpokenText, replacements: list[Replacement]) -> SpokenText:
    """Replace spans of ``spoken.text``, composing the offset map so it still points into the original."""
    if not replacements:
        return spoken
    text, starts, ends, rewritten = [], [], [], []
    position = 0

    def copy(upto: int) -> None:
        text.append(spoken.text[position:upto])
        starts.extend(spoken.starts[position:upto])
        ends.extend(spoken.ends[position:upto])

    length = 0
    for rep in sorted(replacements, key=lambda r: r.start):
        if rep.start < position:
            continue
        copy(rep.start)
        length = sum(map(len, text))
        text.append(rep.text)
        starts.extend([spoken.starts[rep.start]] * len(rep.text))
        ends.extend([spoken.ends[rep.end - 1]] * len(rep.text))
        rewritten.append((length, length + len(rep.text)))
        position = rep.end
    copy(len(spoken.text))
    moved = [_moved(span, spoken, replacements) for span in spoken.rewritten]
    return SpokenText(original=spoken.original, text="".join(text), starts=starts, ends=ends,
                      rewritten=sorted(rewritten + [m for m in moved if m]))


def _moved(span: tuple[int, int], spoken: SpokenText, replacements: list[Replacement]) -> tuple[int, int] | None:
    # Earlier rewritten spans keep their place relative to later replacements (rare: e-mail after numbers).
    shift = 0
    for rep in replacements:
        if rep.end <= span[0]:
            shift += len(rep.text) - (rep.end - rep.start)
        elif rep.start < span[1]:
            return None  # swallowed by a later replacement, which is marked itself
    return span[0] + shift, span[1] + shift


@lru_cache(maxsize=1)
def _email_pattern() -> re.Pattern:
    email = spoken_forms().email
    dot, at, weak, tld = (alternatives(email[key]) for key in ("dot", "at", "at_weak", "top_level"))
    part = r"[^\W_][\w-]*"
    local = rf"{part}(?:[._]{part}|\s+(?:{dot})\s+{part})*"
    domain = rf"{part}(?:\.{part}|\s+(?:{dot})\s+{part})*(?:\.|\s+(?:{dot})\s+)"
    # After "snabel a" the domain may be said as two or three words ("plejehjemmet solbakken punktum dk"), when it
    # ends in a known top-level domain; they are written joined.
    spaced = rf"{part}(?:\s+{part}){{1,2}}\s+(?:{dot})\s+(?:{tld})"
    strong = rf"(?P<local>{local})\s*(?:{at})\s*(?P<domain>{domain}(?:{tld}|{part})|{spaced})(?![\w])"
    weak_form = rf"(?P<wlocal>{local})\s+(?:{weak})\s+(?P<wdomain>{domain}(?:{tld}))(?![\w])"
    return re.compile(rf"(?<![\w.@]){strong}|(?<![\w.@]){weak_form}", re.IGNORECASE)


def _email_replacements(text: str) -> list[Replacement]:
    """"mette punktum hansen snabel a rm punktum dk" → "mette.hansen@rm.dk"; written addresses are left alone."""
    dot = re.compile(rf"\s+(?:{alternatives(spoken_forms().email['dot'])})\s+", re.IGNORECASE)
    out = []
    for m in _email_pattern().finditer(text):
        if "@" in m[0] and not re.search(r"\s", m[0]):
            continue  # already written as an address
        local, domain = (m["local"], m["domain"]) if m["local"] else (m["wlocal"], m["wdomain"])
        written = dot.sub(".", local) + "@" + dot.sub(".", domain)
        out.append(Replacement(start=m.start(), end=m.end(), text=written.replace(" ", "")))
    return out


def normalise_spoken(text: str) -> SpokenText:
    """``text`` with number words as digits and spoken e-mail addresses written out, with the offset map back."""
    spoken = _apply(_identity(text), number_replacements(text))
    return _apply(spoken, _email_replacements(spoken.text))
