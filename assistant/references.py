"""References people can read and say aloud: ``UTH-2026-0142`` for a case, ``UTH-2026-0142/2`` for its second point.

A case's reference is the year it was handed in and its place in that year (assigned once, at intake, by
:mod:`assistant.store.numbering`, and stored); a point adds its number within the case. The ids stay in the API
and the store; everywhere a person reads a case or point they see its reference, and wherever they type one,
either form is accepted (``assistant.cases.find_case`` and ``find_point``). The prefix (``reference_prefix``) is only
read when a reference is made: one typed with any prefix resolves, so references printed before the prefix was
changed keep working.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

DEFAULT_PREFIX = "UTH"
_TYPED = re.compile(
    r"^\s*(?:(?P<prefix>[A-Za-zÆØÅæøå]{2,8})[-\s])?(?P<year>\d{4})[-\s](?P<number>\d{1,6})"
    r"(?:\s*/\s*(?P<point>\d{1,4}))?\s*$"
)


class Reference(BaseModel):
    """A parsed reference: a case (``point`` None) or one of its points. ``prefix`` is None when it was left out."""

    prefix: str | None = None
    year: int = Field(ge=1000, le=9999)
    number: int = Field(ge=1)
    point: int | None = Field(None, ge=1)

    @property
    def case(self) -> str:
        """The case part as stored (``UTH-2026-0142``); without a prefix, only ``2026-0142``."""
        return f"{self.prefix + '-' if self.prefix else ''}{self.year}-{self.number:04d}"

    def __str__(self) -> str:
        return self.case if self.point is None else point_reference(self.case, self.point)


def case_reference(prefix: str, year: int, number: int) -> str:
    """``UTH-2026-0142``: the year and a per-year number padded to four digits, so references sort as they read."""
    return f"{prefix}-{year}-{number:04d}"


def point_reference(case_ref: str | None, number: int | None) -> str:
    """``UTH-2026-0142/2``: the case's reference and the point's number within the case (empty when unknown)."""
    if not case_ref or not number:
        return ""
    return f"{case_ref}/{number}"


def parse_reference(text: str) -> Reference | None:
    """The reference ``text`` spells (any case, prefix optional, padding optional), or None if it spells none."""
    match = _TYPED.match(text or "")
    if match is None:
        return None
    prefix = match["prefix"].upper() if match["prefix"] else None
    point = int(match["point"]) if match["point"] else None
    if int(match["number"]) < 1 or point == 0:
        return None
    return Reference(prefix=prefix, year=int(match["year"]), number=int(match["number"]), point=point)
