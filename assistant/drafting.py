"""Draft ISBAR sections and learning points from a pseudonymised transcript with a chat model.

The model answers JSON for a small schema (``DraftOut``); the answer is validated (schema, taxonomy, evidence
quotes found in the cited segments) and retried with the error on failure, as instructor does. Long transcripts
are drafted chunk by chunk on segment boundaries and the points merged.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from rapidfuzz import fuzz

from assistant.errors import DraftInvalid
from assistant.llm import ChatMessage, ChatModel
from assistant.models import (
    CaseContext,
    Draft,
    Evidence,
    IsbarPart,
    IsbarSection,
    LearningPointDraft,
    Segment,
    Severity,
    SuggestedAction,
)
from assistant.settings import Settings
from prompts import Prompt, category_ids, load_prompt, load_taxonomy, normalise_category

log = logging.getLogger(__name__)

PROMPT_ID = "draft_case"
MAX_POINTS = 7
MAX_POINTS_PER_CHUNK = 4
COPY_MATCH = 65  # rapidfuzz ratio to a sentence of the worked example above which a sentence looks copied …
COPY_MATCH_SUGGESTION = 85  # … higher for actions and measures: "Share of staff who …" is a pattern worth reusing
SUPPORT_MATCH = 75  # … and is dropped unless its partial_ratio against the transcript reaches this
QUOTE_MATCH = 85  # rapidfuzz partial_ratio a quote needs against its segment to count as evidence
QUOTE_MIN_CHARS = 8  # shorter "quotes" ("ja", "og så") match almost any segment and prove nothing
SAME_POINT = 80  # token_set_ratio of two titles above which chunk points are merged

# -- what the LLM must produce (short names keep prompts and outputs small) ------------------------------------

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _brief(chars: int):
    # A length cap in the schema only: llama.cpp's grammar then stops runaway text; answers are not refused for it.
    return Field(json_schema_extra={"maxLength": chars})


Item = Annotated[str, _brief(140)]


class _Out(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class QuoteOut(_Out):
    line: int
    quote: Annotated[Text, _brief(160)]


class ActionOut(_Out):
    do: Item
    measure: Item


class PointOut(_Out):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200), _brief(90)]
    # Asked right after the title, while the model still "thinks" about the topic rather than the details.
    category: str  # checked against the taxonomy after parsing, so close misses can be mapped
    evidence: list[QuoteOut] = Field(min_length=1, max_length=2)
    what: Annotated[Text, _brief(260)]
    factors: list[Item] = Field(max_length=2)
    went_well: list[Item] = Field(max_length=2)
    actions: list[ActionOut] = Field(max_length=2)
    severity: Severity
    safety_ii: bool


class IsbarTextOut(_Out):
    text: Annotated[str, _brief(260)]
    lines: list[int] = Field(max_length=3)


class IsbarOut(_Out):
    identifikation: IsbarTextOut
    situation: IsbarTextOut
    baggrund: IsbarTextOut
    analyse: IsbarTextOut
    raad: IsbarTextOut


class PointsOut(_Out):
    points: list[PointOut] = Field(min_length=1, max_length=MAX_POINTS_PER_CHUNK)


class DraftOut(_Out):
    isbar: IsbarOut
    points: list[PointOut] = Field(min_length=1, max_length=MAX_POINTS_PER_CHUNK)


class DraftReport(BaseModel):
    """How a draft came about: what reviewers and benchmarks want to know beyond the draft itself."""

    chunks: int = 0
    attempts: int = 0
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0
    dropped_evidence: int = 0
    corrected_evidence: int = 0
    categories_mapped: int = 0
    categories_changed: int = 0
    copied_from_example: int = 0
    problems: list[str] = Field(default_factory=list)


def llm_schema(with_isbar: bool, max_points: int = MAX_POINTS_PER_CHUNK) -> dict:
    """The JSON schema the model must follow: the output models, with the taxonomy as an enum."""
    model = DraftOut if with_isbar else PointsOut
    schema = model.model_json_schema()
    schema["required"] = list(schema["properties"])
    schema["properties"]["points"]["maxItems"] = max_points
    point = schema["$defs"]["PointOut"]
    point["properties"]["category"]["enum"] = [c.id for c in load_taxonomy()]
    point["required"] = list(point["properties"])

    def strip(node):
        if isinstance(node, dict):
            for key in ("title", "description"):
                if isinstance(node.get(key), str):
                    del node[key]
            for value in node.values():
                strip(value)
        elif isinstance(node, list):
            for value in node:
                strip(value)

    strip(schema)
    return schema


# -- rendering ---------------------------------------------------------------------------------------------------


def _clock(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def _data_text(text: str) -> str:
    # Segments are data: they must not be able to close the data block or open a tag of their own.
    return " ".join(text.replace("<", "‹").replace(">", "›").split())


def render_transcript(segments: list[Segment]) -> str:
    """Numbered lines ``[7] 03:15 text`` so the model can cite segments; typed notes have no times."""
    lines = []
    for s in segments:
        timed = s.end > 0 or s.start > 0
        prefix = f"[{s.index}] {_clock(s.start)} " if timed else f"[{s.index}] "
        speaker = f"{_data_text(s.speaker)}: " if s.speaker else ""
        lines.append(prefix + speaker + _data_text(s.text))
    return "\n".join(lines)


def render_context(context: CaseContext, prompt: Prompt) -> str:
    sector = prompt.texts.get("sector_" + context.sector.value, context.sector.value)
    parts = [f"{prompt.text('context_sector')}: {sector}"]
    if context.unit:
        parts.append(f"{prompt.text('context_unit')}: {_data_text(context.unit)}")
    if context.event_date:
        parts.append(f"{prompt.text('context_date')}: {context.event_date.isoformat()}")
    if context.event_type:
        parts.append(f"{prompt.text('context_event_type')}: {_data_text(context.event_type)}")
    return ". ".join(parts) + "."


def _category_list(language: str) -> str:
    return ", ".join(f"{c.id} ({c.label(language)})" for c in load_taxonomy())


def _category_lines(language: str) -> str:
    return "\n".join(f"- {c.id}: {c.label(language)} – {c.description(language)}" for c in load_taxonomy())


def chunk_segments(segments: list[Segment], chunk_words: int) -> list[list[Segment]]:
    """Balanced chunks of at most ``chunk_words`` words, split between segments (a longer segment stands alone)."""
    words = [len(s.text.split()) for s in segments]
    total = sum(words)
    if total <= chunk_words:
        return [list(segments)] if segments else []
    n = math.ceil(total / chunk_words)
    limit = min(chunk_words, math.ceil(total / n * 1.1))
    chunks: list[list[Segment]] = [[]]
    count = 0
    for segment, w in zip(segments, words):
        if chunks[-1] and count + w > limit:
            chunks.append([])
            count = 0
        chunks[-1].append(segment)
        count += w
    return chunks


# -- validation ---------------------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\[([A-ZÆØÅ]+)_(\d+)\]")


def _placeholder_fixer(segments: list[Segment]) -> Callable[[str], str]:
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


def _parse(
    reply_text: str, finish_reason: str | None, model: type[_Out]
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


def _unknown_categories(out: PointsOut | DraftOut) -> list[str]:
    return [p.category for p in out.points if normalise_category(p.category) is None]


def _supported(quote: str, segment: Segment) -> bool:
    if len(quote) < QUOTE_MIN_CHARS:
        return False
    return fuzz.partial_ratio(quote.casefold(), segment.text.casefold()) >= QUOTE_MATCH


def _where_said(quote: str, by_index: dict[int, Segment]) -> int | None:
    """The segment that holds ``quote`` best (the small model's line numbers are often wrong, its quotes less so)."""
    if len(quote) < QUOTE_MIN_CHARS:
        return None
    scored = [(fuzz.partial_ratio(quote.casefold(), s.text.casefold()), -i) for i, s in by_index.items()]
    score, negative_index = max(scored, default=(0, 0))
    return -negative_index if score >= QUOTE_MATCH else None


def _check_evidence(quotes: list[QuoteOut], by_index: dict[int, Segment], report: DraftReport) -> list[Evidence]:
    """Keep quotes found in the segment they cite; a quote said elsewhere in the chunk is moved to the segment
    that holds it; quotes nobody said are dropped."""
    kept: list[Evidence] = []
    for q in quotes:
        if q.line in by_index and _supported(q.quote, by_index[q.line]):
            index = q.line
        else:
            found = _where_said(q.quote, by_index)
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


def _example_guard(prompt: Prompt, source: str, report: DraftReport) -> Callable[..., str]:
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


def _to_point(
    p: PointOut, by_index: dict[int, Segment], fix: Callable[..., str], report: DraftReport
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
        evidence=_check_evidence(p.evidence, by_index, report),
    )


def _to_isbar(out: IsbarOut, by_index: dict[int, Segment], fix: Callable[..., str]) -> list[IsbarSection]:
    return [
        IsbarSection(
            part=part,
            text=fix(getattr(out, part.value).text),
            segment_indices=sorted({i for i in getattr(out, part.value).lines if i in by_index}),
        )
        for part in IsbarPart
    ]


# -- merging chunks -----------------------------------------------------------------------------------------------

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


# -- categories ---------------------------------------------------------------------------------------------------

CLASSIFY_MAX_TOKENS = 24


def classify_points(
    points: list[LearningPointDraft], prompt: Prompt, chat: ChatModel, report: DraftReport
) -> list[LearningPointDraft]:
    """Pick each point's category in a short, fresh call with the taxonomy's descriptions; keep the draft's on failure.

    Measured with the bundled 1.5B model: 8 of 12 Danish titles right this way; as a field of the long draft, 0 of 9
    (it copied the few-shot example's categories or said 'andet').
    """
    schema = {
        "type": "object",
        "properties": {"category": {"type": "string", "enum": [c.id for c in load_taxonomy()]}},
        "required": ["category"],
    }
    categories = _category_lines(prompt.language)
    system = ChatMessage(role="system", content=prompt.text("classify_system", categories=categories))
    out = []
    for point in points:
        question = prompt.text("classify_user", title=point.title, what=point.what_happened)
        user = ChatMessage(role="user", content=question)
        reply = chat.complete_json([system, user], schema, CLASSIFY_MAX_TOKENS)
        report.calls += 1
        report.tokens_in += reply.tokens_in
        report.tokens_out += reply.tokens_out
        try:
            chosen = normalise_category(str(json.loads(reply.text).get("category", "")))
        except (json.JSONDecodeError, AttributeError):
            chosen = None
        if chosen and chosen != point.category:
            report.categories_changed += 1
            point = point.model_copy(update={"category": chosen})
        out.append(point)
    return out


# -- orchestration ------------------------------------------------------------------------------------------------


def _draft_chunk(
    messages: list[ChatMessage],
    model: type[_Out],
    schema: dict,
    prompt: Prompt,
    chat: ChatModel,
    settings: Settings,
    report: DraftReport,
) -> PointsOut | DraftOut:
    """Ask, validate, and ask again with the problem until the answer is usable or the retries are spent."""
    attempts = settings.llm_max_retries + 1
    problem = "no answer"
    for attempt in range(1, attempts + 1):
        reply = chat.complete_json(messages, schema, settings.llm_max_tokens)
        report.attempts += 1
        report.calls += 1
        report.tokens_in += reply.tokens_in
        report.tokens_out += reply.tokens_out
        out, problem = _parse(reply.text, reply.finish_reason, model)
        if out is not None:
            unknown = _unknown_categories(out)
            if not unknown or attempt == attempts:
                # A category we cannot place is not worth failing the draft for: it becomes 'andet' for review.
                return out
            problem = f"category not in the list: {', '.join(unknown)}; use one of {', '.join(sorted(category_ids()))}"
        report.problems.append(problem)
        log.info("draft attempt %d/%d unusable: %s", attempt, attempts, problem)
        messages = [
            *messages,
            ChatMessage(role="assistant", content=reply.text),
            ChatMessage(role="user", content=prompt.text("retry", problem=problem)),
        ]
    raise DraftInvalid("draft.invalid", attempts=attempts, reason=problem)


def draft_case_with_report(
    segments: list[Segment],
    context: CaseContext,
    chat: ChatModel,
    settings: Settings,
    *,
    isbar: list[IsbarSection] | None = None,
    progress: Callable[[float], None] | None = None,
) -> tuple[Draft, DraftReport]:
    """Like :func:`draft_case`, also returning how the draft came about (calls, dropped evidence, timings)."""
    started = time.perf_counter()
    if not segments:
        raise DraftInvalid("draft.invalid", attempts=0, reason="empty transcript")
    prompt = load_prompt(PROMPT_ID, settings.prompt_language)
    report = DraftReport()
    chunks = chunk_segments(segments, settings.chunk_words)
    report.chunks = len(chunks)
    with_isbar = isbar is None
    model = DraftOut if with_isbar else PointsOut
    # A small model fills every slot it is offered, and each point costs ~10 s of generation on two cores.
    max_points = 3 if len(chunks) <= 2 else 2
    schema = llm_schema(with_isbar, max_points)
    placeholders = _placeholder_fixer(segments)
    static = {
        "categories": _category_list(prompt.language),
        "task": prompt.text("task_with_isbar" if with_isbar else "task_points_only"),
        "max_points": max_points,
        "context": render_context(context, prompt),
    }
    points: list[list[LearningPointDraft]] = []
    sections: list[list[IsbarSection]] = []
    for n, chunk in enumerate(chunks, start=1):
        messages = prompt.render(transcript=render_transcript(chunk), **static)
        out = _draft_chunk(messages, model, schema, prompt, chat, settings, report)
        chunk_index = {s.index: s for s in chunk}
        guard = _example_guard(prompt, static["context"] + "\n" + " ".join(s.text for s in chunk), report)

        def fix(text: str, threshold: int = COPY_MATCH) -> str:
            return guard(placeholders(text.strip()), threshold)

        drafted = [_to_point(p, chunk_index, fix, report) for p in out.points[:max_points]]
        points.append([p for p in drafted if p is not None])
        if isinstance(out, DraftOut):
            sections.append(_to_isbar(out.isbar, chunk_index, fix))
        if progress:
            progress(0.9 * n / len(chunks))
    merged = merge_points(points)
    if not merged:
        reason = "no learning point grounded in the transcript"
        raise DraftInvalid("draft.invalid", attempts=report.attempts, reason=reason)
    merged = classify_points(merged, prompt, chat, report)
    if progress:
        progress(1.0)
    report.seconds = time.perf_counter() - started
    draft = Draft(
        isbar=isbar if isbar is not None else merge_isbar(sections),
        learning_points=merged,
        prompt_id=prompt.id,
        prompt_version=prompt.version,
        model_id=chat.model_id,
        attempts=report.attempts,
        tokens_in=report.tokens_in,
        tokens_out=report.tokens_out,
    )
    log.info(
        "drafted %d points from %d segments in %d chunks, %d calls, %.1f s; evidence dropped %d, corrected %d",
        len(draft.learning_points), len(segments), report.chunks, report.calls, report.seconds,
        report.dropped_evidence, report.corrected_evidence,
    )
    return draft, report


def draft_case(
    segments: list[Segment],
    context: CaseContext,
    chat: ChatModel,
    settings: Settings,
    *,
    isbar: list[IsbarSection] | None = None,
    progress: Callable[[float], None] | None = None,
) -> Draft:
    """ISBAR sections (unless ``isbar`` is given) and 1–7 learning points for one case's pseudonymised segments.

    ``attempts`` counts drafting calls (chunks × tries); raises :class:`DraftInvalid` when a chunk stays unusable.
    """
    draft, _ = draft_case_with_report(segments, context, chat, settings, isbar=isbar, progress=progress)
    return draft
