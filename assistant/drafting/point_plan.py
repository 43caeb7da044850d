"""Which lines make which learning point, chosen from the ISBAR labels and word cues without generating text.

A case gives at most three points: the main event (what went wrong, or what went well when nothing did), what
went well beside a failure (Safety-II), and a contributing factor the talk dwelt on. A case an authority found no
fault in gives one point, what went well: the finding and the care it judged. Each point's account is
the lines' own words, so it cannot say what nobody said; the LLM later only titles it and classifies it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.drafting.cues import Cues
from assistant.models import IsbarPart, Segment

MAX_MAIN_LINES = 2
MAX_LIST_LINES = 2
MIN_CONTENT_WORDS = 3


class PlannedPoint(BaseModel):
    """One point's lines: its account, and the lines that fill its lists."""

    kind: Literal["event", "went_well", "factor"]
    lines: list[int] = Field(min_length=1)
    factor_lines: list[int] = Field(default_factory=list)
    went_well_lines: list[int] = Field(default_factory=list)
    action_lines: list[int] = Field(default_factory=list)

    @property
    def went_well(self) -> bool:
        return self.kind == "went_well"


class _Line(BaseModel):
    index: int
    part: IsbarPart | None
    polarity: int
    harm: bool


def _event_score(line: _Line) -> float:
    return 2.0 * (line.part == IsbarPart.situation) + 1.0 * (line.polarity < 0) + 1.0 * line.harm \
        + 0.5 * (line.part == IsbarPart.analyse)


def _top(lines: list[_Line], score, limit: int) -> list[int]:
    ranked = sorted(lines, key=lambda line: (-score(line), line.index))
    return sorted(line.index for line in ranked[:limit] if score(line) > 0)


def _judged_care(lines: list[_Line], talk: list[_Line], findings: set[int]) -> list[int]:
    """A no-fault case's point: the line with the finding (the first of ``findings``), and the line of the care it
    judged that best tells what was done (success words first, then the event's lines). The failure words of a
    complaint ("der blev klaget over, at han ikke fik…") are what the authority answered, not what went wrong."""
    finding = [line for line in lines if line.index in findings and line.part != IsbarPart.raad][:1]
    care = [line for line in talk if line.polarity >= 0 and line not in finding]
    told = _top(care, lambda line: 2.0 * (line.polarity > 0) + 1.0 * (line.part == IsbarPart.situation)
                + 0.5 * (line.part == IsbarPart.analyse), MAX_MAIN_LINES - len(finding))
    return sorted({line.index for line in finding} | set(told))


def plan_points(segments: list[Segment], labels: list[IsbarPart | None], cues: Cues,
                case_text: str) -> list[PlannedPoint]:
    """The points this talk supports, main event first; empty when no line has content. ``case_text``: every line
    but Råd, where an authority's finding of no fault is looked for."""
    lines = [
        _Line(index=s.index, part=label, polarity=cues.polarity(s.text), harm=cues.severity_of(s.text) is not None)
        for s, label in zip(segments, labels)
        if label is not None and cues.content_words(s.text) >= MIN_CONTENT_WORDS
    ]
    if not lines:
        return []
    talk = [line for line in lines if line.part not in (IsbarPart.raad, IsbarPart.identifikation)] or lines
    actions = [line.index for line in lines if line.part == IsbarPart.raad][:MAX_LIST_LINES]
    went_well = [line for line in talk if line.polarity > 0]
    failures = [line for line in talk if line.polarity < 0]
    if cues.no_fault(case_text):  # the line that tells the finding is looked for only then
        judged = _judged_care(lines, talk, {s.index for s in segments if cues.no_fault(s.text)})
        if judged:
            return [PlannedPoint(kind="went_well", lines=judged, action_lines=actions)]
    if not failures and went_well:  # a positive event: what went well is the story
        main = _top(went_well, lambda line: line.polarity + (line.part == IsbarPart.situation), MAX_MAIN_LINES)
        return [PlannedPoint(kind="went_well", lines=main, action_lines=actions)]
    main = _top(talk, _event_score, MAX_MAIN_LINES) or [talk[0].index]
    well = [line.index for line in went_well if line.index not in main][:MAX_LIST_LINES]
    factors = [line.index for line in failures if line.part == IsbarPart.analyse and line.index not in main]
    points = [PlannedPoint(kind="event", lines=main, factor_lines=factors[:MAX_LIST_LINES], went_well_lines=well,
                           action_lines=actions)]
    if well:
        points.append(PlannedPoint(kind="went_well", lines=well))
    if len(factors) >= 2:
        points.append(PlannedPoint(kind="factor", lines=factors[:MAX_MAIN_LINES], action_lines=actions))
    return points
