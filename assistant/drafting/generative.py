"""The rich path: the model writes ISBAR sections and whole learning points as JSON, chunk by chunk.

Meant for strong models on a server. The answer is validated (schema, taxonomy, evidence quotes found in the
cited segments) and retried with the error on failure, as instructor does; long transcripts are drafted chunk by
chunk on segment boundaries and the points merged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from assistant.drafting.categories import classify_points
from assistant.drafting.merging import merge_isbar, merge_points
from assistant.drafting.options import DraftingOptions
from assistant.drafting.rendering import category_list, chunk_segments, render_context, render_transcript
from assistant.drafting.schema import DraftOut, DraftTrace, LLMOut, PointsOut, llm_schema
from assistant.drafting.validation import (
    COPY_MATCH,
    example_guard,
    parse_answer,
    placeholder_fixer,
    to_isbar,
    to_point,
    unknown_categories,
)
from assistant.errors import DraftInvalid, DraftTimeUp
from assistant.llm import ChatMessage, ChatModel
from assistant.llm.limits import seconds_left
from assistant.models import (
    CaseContext,
    Draft,
    IsbarSection,
    LearningPointDraft,
    Segment,
)
from prompts import Prompt, category_ids, load_prompt

log = logging.getLogger(__name__)

PROMPT_ID = "draft_case"
MIN_CALL_SECONDS = 10.0  # a whole-draft call needs at least this much of the budget left

def _draft_chunk(
    messages: list[ChatMessage],
    model: type[LLMOut],
    schema: dict,
    prompt: Prompt,
    chat: ChatModel,
    options: DraftingOptions,
    report: DraftTrace,
) -> PointsOut | DraftOut:
    """Ask, validate, and ask again with the problem until the answer is usable or the retries are spent."""
    attempts = options.max_retries + 1
    problem = "no answer"
    for attempt in range(1, attempts + 1):
        if seconds_left(options.call_seconds) < MIN_CALL_SECONDS:
            raise DraftTimeUp("draft.time_up")
        reply = chat.complete_json(messages, schema, options.max_tokens)
        report.attempts += 1
        report.calls += 1
        report.tokens_in += reply.tokens_in
        report.tokens_out += reply.tokens_out
        out, problem = parse_answer(reply.text, reply.finish_reason, model)
        if out is not None:
            unknown = unknown_categories(out)
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


def draft_rich(
    segments: list[Segment],
    context: CaseContext,
    chat: ChatModel,
    options: DraftingOptions,
    *,
    isbar: list[IsbarSection] | None = None,
    progress: Callable[[float], None] | None = None,
) -> tuple[Draft, DraftTrace]:
    """ISBAR sections (unless ``isbar`` is given) and 1–7 learning points written by the model, with the trace.

    ``attempts`` counts drafting calls (chunks × tries); raises :class:`DraftInvalid` when a chunk stays unusable
    and :class:`DraftTimeUp` when the time budget (``time_limit``) runs out first.
    """
    started = time.perf_counter()
    if not segments:
        raise DraftInvalid("draft.invalid", attempts=0, reason="empty transcript")
    prompt = load_prompt(PROMPT_ID, options.prompt_language)
    report = DraftTrace()
    chunks = chunk_segments(segments, options.chunk_words)
    report.chunks = len(chunks)
    with_isbar = isbar is None
    model = DraftOut if with_isbar else PointsOut
    # A small model fills every slot it is offered, and each point costs ~10 s of generation on two cores.
    max_points = 3 if len(chunks) <= 2 else 2
    schema = llm_schema(with_isbar, max_points)
    placeholders = placeholder_fixer(segments)
    static = {
        "categories": category_list(prompt.language),
        "task": prompt.text("task_with_isbar" if with_isbar else "task_points_only"),
        "max_points": max_points,
        "context": render_context(context, prompt),
    }
    points: list[list[LearningPointDraft]] = []
    sections: list[list[IsbarSection]] = []
    for n, chunk in enumerate(chunks, start=1):
        messages = prompt.render(transcript=render_transcript(chunk), **static)
        out = _draft_chunk(messages, model, schema, prompt, chat, options, report)
        chunk_index = {s.index: s for s in chunk}
        guard = example_guard(prompt, static["context"] + "\n" + " ".join(s.text for s in chunk), report)

        def fix(text: str, threshold: int = COPY_MATCH) -> str:
            return guard(placeholders(text.strip()), threshold)

        drafted = [to_point(p, chunk_index, fix, report) for p in out.points[:max_points]]
        points.append([p for p in drafted if p is not None])
        if isinstance(out, DraftOut):
            sections.append(to_isbar(out.isbar, chunk_index, fix))
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
