"""One entry to drafting: the small-model path or the rich one by the model's capability, always within the
draft's time budget, and a draft from the lines alone when that budget runs out."""

from __future__ import annotations

import logging
from collections.abc import Callable

from assistant.drafting.generative import draft_rich
from assistant.drafting.schema import DraftTrace
from assistant.drafting.small_model import draft_small
from assistant.errors import DraftTimeUp
from assistant.llm import ChatModel
from assistant.llm.limits import time_limit
from assistant.models import CaseContext, Draft, DraftMethod, DraftWarning, IsbarSection, Segment
from assistant.settings import Settings
from vectorstore.embeddings import make_embedder

log = logging.getLogger(__name__)


def draft_case_with_report(
    segments: list[Segment],
    context: CaseContext,
    chat: ChatModel,
    settings: Settings,
    *,
    isbar: list[IsbarSection] | None = None,
    progress: Callable[[float], None] | None = None,
    method: DraftMethod | None = None,
) -> tuple[Draft, DraftTrace]:
    """The draft and how it came about; ``method`` overrides ``settings.llm_capability`` (for evaluation)."""
    embedder = make_embedder(settings)
    small = method == DraftMethod.small if method else settings.drafts_with_small_model
    if small:
        return draft_small(segments, context, chat, settings, embedder=embedder, isbar=isbar, progress=progress)
    try:
        with time_limit(settings.draft_seconds):
            return draft_rich(segments, context, chat, settings, isbar=isbar, progress=progress)
    except DraftTimeUp:
        log.warning("the draft's %.0f s ran out; drafting from the lines alone", settings.draft_seconds)
        draft, trace = draft_small(segments, context, None, settings, embedder=embedder, isbar=isbar)
        note = DraftWarning(key="draft.extractive_budget", params={"seconds": f"{settings.draft_seconds:.0f}"})
        return draft.model_copy(update={"warnings": [*draft.warnings, note]}), trace


def draft_case(
    segments: list[Segment],
    context: CaseContext,
    chat: ChatModel,
    settings: Settings,
    *,
    isbar: list[IsbarSection] | None = None,
    progress: Callable[[float], None] | None = None,
) -> Draft:
    """ISBAR sections (unless ``isbar`` is given) and learning points for one case's pseudonymised segments."""
    draft, _ = draft_case_with_report(segments, context, chat, settings, isbar=isbar, progress=progress)
    return draft
