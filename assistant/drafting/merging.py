"""Points and ISBAR sections drafted chunk by chunk, merged into one draft."""

from __future__ import annotations

import logging

from rapidfuzz import fuzz

from assistant.models import (
    IsbarPart,
    IsbarSection,
    LearningPointDraft,
    Severity,
)

log = logging.getLogger(__name__)

MAX_POINTS = 7
SAME_POINT = 80  # token_set_ratio of two titles above which chunk points are merged

_SEVERITY_ORDER = list(Severity)


def _same(a: str, b: str) -> bool:
    return fuzz.token_set_ratio(a.casefold(), b.casefold()) >= SAME_POINT


def _union(first: list[str], second: list[str]) -> list[str]:
    out = list(first)
    for item in second:
        if not any(_same(item, o) for o in out):
            out.append(item)
    return out


def _merge_point(a: LearningPointDraft, b: LearningPointDraft) -> LearningPointDraft:
    evidence = list(a.evidence) + [e for e in b.evidence if e not in a.evidence]
    actions = list(a.suggested_actions) + [
        x for x in b.suggested_actions if not any(_same(x.action, y.action) for y in a.suggested_actions)
    ]
    return a.model_copy(
        update={
            "contributing_factors": _union(a.contributing_factors, b.contributing_factors),
            "what_went_well": _union(a.what_went_well, b.what_went_well),
            "suggested_actions": actions,
            "evidence": evidence,
            "severity": max(a.severity, b.severity, key=_SEVERITY_ORDER.index),
        }
    )


def _twins(a: LearningPointDraft, b: LearningPointDraft) -> bool:
    # The small model also repeats one account under two titles.
    return _same(a.title, b.title) or fuzz.ratio(a.what_happened.casefold(), b.what_happened.casefold()) >= 90


def merge_points(per_chunk: list[list[LearningPointDraft]], limit: int = MAX_POINTS) -> list[LearningPointDraft]:
    """Round-robin over chunks (so every part of the talk is heard), merging near-identical points."""
    merged: list[LearningPointDraft] = []
    for rank in range(max((len(c) for c in per_chunk), default=0)):
        for points in per_chunk:
            if rank >= len(points):
                continue
            point = points[rank]
            twin = next((i for i, m in enumerate(merged) if _twins(m, point)), None)
            if twin is not None:
                merged[twin] = _merge_point(merged[twin], point)
            elif len(merged) < limit:
                merged.append(point)
    return merged


def merge_isbar(per_chunk: list[list[IsbarSection]]) -> list[IsbarSection]:
    """One section per ISBAR part: the chunks' texts in order (repeats left out) and all their segment numbers."""
    sections = []
    for part in IsbarPart:
        texts: list[str] = []
        indices: set[int] = set()
        for chunk in per_chunk:
            for s in chunk:
                if s.part == part:
                    if s.text.strip() and not any(_same(s.text, t) for t in texts):
                        texts.append(s.text.strip())
                    indices.update(s.segment_indices)
        sections.append(IsbarSection(part=part, text=" ".join(texts), segment_indices=sorted(indices)))
    return sections


