"""Checks of the model's answer before anyone sees it: JSON and schema, placeholders written back exactly,
quotes found in the lines they cite, and sentences copied from the worked example removed."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

from pydantic import ValidationError
from rapidfuzz import fuzz

from assistant.drafting.schema import DraftOut, DraftTrace, IsbarOut, LLMOut, PointOut, PointsOut, QuoteOut
from assistant.models import (
    Evidence,
    IsbarPart,
    IsbarSection,
    LearningPointDraft,
    Segment,
    SuggestedAction,
)
from prompts import Prompt, normalise_category

log = logging.getLogger(__name__)

COPY_MATCH = 65  # rapidfuzz ratio to a sentence of the worked example above which a sentence looks copied …
COPY_MATCH_SUGGESTION = 85  # … higher for actions and measures: "Share of staff who …" is a pattern worth reusing
SUPPORT_MATCH = 75  # … and is dropped unless its partial_ratio against the transcript reaches this
QUOTE_MATCH = 85  # rapidfuzz partial_ratio a quote needs against its segment to count as evidence
QUOTE_MIN_CHARS = 8  # shorter "quotes" ("ja", "og så") match almost any segment and prove nothing

_PLACEHOLDER = re.compile(r"\[([A-ZÆØÅ]+)_(\d+)\]")


def placeholder_fixer(segments: list[Segment]) -> Callable[[str], str]:
    """Small models write [PERSON_1] as "PERSON_1" or "[Person 1]"; put back the transcript's exact placeholder."""
    known = {m.group(0) for s in segments for m in _PLACEHOLDER.finditer(s.text)}
    patterns = []
    for placeholder in known:
        kind, number = _PLACEHOLDER.fullmatch(placeholder).groups()
        patterns.append((re.compile(rf"\[?\b{kind}[ _-]?{number}\b\]?", re.IGNORECASE), placeholder))

    def fix(text: str) -> str:
        for pattern, placeholder in patterns:
            text = pattern.sub(placeholder, text)
        return text

    return fix


def _errors_text(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors()[:5]:
        where = ".".join(str(x) for x in e["loc"]) or "svar"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)


def parse_answer(
    reply_text: str, finish_reason: str | None, model: type[LLMOut]
) -> tuple[PointsOut | DraftOut | None, str | None]:
    """The parsed answer, or why it cannot be used (in words the model can act on)."""
    if finish_reason == "length":
        return None, "the JSON was cut off at the token limit; write shorter texts"
    if not reply_text.strip():
        return None, "empty answer"
    try:
        data = json.loads(reply_text)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON ({exc.msg} at position {exc.pos})"
    try:
        return model.model_validate(data), None
    except ValidationError as exc:
        return None, f"schema not followed: {_errors_text(exc)}"


def unknown_categories(out: PointsOut | DraftOut) -> list[str]:
    return [p.category for p in out.points if normalise_category(p.category) is None]


def quote_supported(quote: str, segment: Segment) -> bool:
    if len(quote) < QUOTE_MIN_CHARS:
        return False
    return fuzz.partial_ratio(quote.casefold(), segment.text.casefold()) >= QUOTE_MATCH


def where_said(quote: str, by_index: dict[int, Segment]) -> int | None:
    """The segment that holds ``quote`` best (the small model's line numbers are often wrong, its quotes less so)."""
    if len(quote) < QUOTE_MIN_CHARS:
        return None
    scored = [(fuzz.partial_ratio(quote.casefold(), s.text.casefold()), -i) for i, s in by_index.items()]
    score, negative_index = max(scored, default=(0, 0))
    return -negative_index if score >= QUOTE_MATCH else None


def check_evidence(quotes: list[QuoteOut], by_index: dict[int, Segment], report: DraftTrace) -> list[Evidence]:
    """Keep quotes found in the segment they cite; a quote said elsewhere in the chunk is moved to the segment
    that holds it; quotes nobody said are dropped."""
    kept: list[Evidence] = []
    for q in quotes:
        if q.line in by_index and quote_supported(q.quote, by_index[q.line]):
            index = q.line
        else:
            found = where_said(q.quote, by_index)
            if found is None:
                report.dropped_evidence += 1
                continue
            index = found
            report.corrected_evidence += 1
        if not any(e.segment_index == index and e.quote == q.quote for e in kept):
            kept.append(Evidence(segment_index=index, quote=q.quote))
    return kept


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def example_guard(prompt: Prompt, source: str, report: DraftTrace) -> Callable[..., str]:
    """Remove sentences copied from the prompt's worked example that the transcript does not support.

    Without the example the 1.5B model wrote ISBAR headings as point titles; with it, it now and then copied the
    example's advice ("let a technician check the alarm") into unrelated cases. This keeps the example's benefit.
    """
    copied: list[str] = []

    def strings(node) -> None:
        if isinstance(node, str):
            copied.extend(_sentences(node))
        elif isinstance(node, dict):
            for value in node.values():
                strings(value)
        elif isinstance(node, list):
            for value in node:
                strings(value)

    for example in prompt.examples:
        try:
            strings(json.loads(example.assistant))
        except json.JSONDecodeError:
            copied.extend(_sentences(example.assistant))
        strings(example.values or {})
    copied = [c.casefold() for c in copied]
    said = source.casefold()

    def guard(text: str, threshold: int = COPY_MATCH) -> str:
        kept = []
        for sentence in _sentences(text):
            folded = sentence.casefold()
            from_example = any(fuzz.ratio(folded, c) >= threshold for c in copied)
            if from_example and fuzz.partial_ratio(folded, said) < SUPPORT_MATCH:
                report.copied_from_example += 1
                log.debug("dropped as copied from the worked example: %s", sentence)
                continue
            kept.append(sentence)
        return " ".join(kept)

    return guard


def _measure(action: str, measure: str) -> str:
    # Small models often repeat the action as its own measure; an empty measure tells the reviewer to add one.
    return "" if fuzz.ratio(action.casefold(), measure.casefold()) >= 90 else measure


def to_point(
    p: PointOut, by_index: dict[int, Segment], fix: Callable[..., str], report: DraftTrace
) -> LearningPointDraft | None:
    """The point in domain terms, or None when its title or account is gone (copied from the example)."""
    category = normalise_category(p.category)
    title, what = fix(p.title), fix(p.what)
    if len(title) < 3 or not what:
        return None
    if category != p.category:
        report.categories_mapped += 1
    return LearningPointDraft(
        title=title,
        what_happened=what,
        contributing_factors=[x for x in (fix(f) for f in p.factors) if x],
        what_went_well=[x for x in (fix(w) for w in p.went_well) if x],
        suggested_actions=[
            SuggestedAction(action=do, measure=_measure(do, fix(a.measure, COPY_MATCH_SUGGESTION)))
            for a in p.actions
            if (do := fix(a.do, COPY_MATCH_SUGGESTION))
        ],
        category=category or "andet",
        severity=p.severity,
        safety_ii=p.safety_ii,
        evidence=check_evidence(p.evidence, by_index, report),
    )


def to_isbar(out: IsbarOut, by_index: dict[int, Segment], fix: Callable[..., str]) -> list[IsbarSection]:
    return [
        IsbarSection(
            part=part,
            text=fix(getattr(out, part.value).text),
            segment_indices=sorted({i for i in getattr(out, part.value).lines if i in by_index}),
        )
        for part in IsbarPart
    ]


