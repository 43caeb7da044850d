"""What the LLM must produce for a rich draft, and the trace of how a draft came about.

Short field names keep prompts and outputs small; length caps live in the JSON schema only, so llama.cpp's grammar
stops runaway text without refusing answers.
"""

from __future__ import annotations

import logging
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from assistant.models import (
    Severity,
)
from prompts import load_taxonomy

log = logging.getLogger(__name__)

MAX_POINTS_PER_CHUNK = 4


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _brief(chars: int):
    # A length cap in the schema only: llama.cpp's grammar then stops runaway text; answers are not refused for it.
    return Field(json_schema_extra={"maxLength": chars})


Item = Annotated[str, _brief(140)]


class LLMOut(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class QuoteOut(LLMOut):
    line: int
    quote: Annotated[Text, _brief(160)]


class ActionOut(LLMOut):
    do: Item
    measure: Item


class PointOut(LLMOut):
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


class IsbarTextOut(LLMOut):
    text: Annotated[str, _brief(260)]
    lines: list[int] = Field(max_length=3)


class IsbarOut(LLMOut):
    identifikation: IsbarTextOut
    situation: IsbarTextOut
    baggrund: IsbarTextOut
    analyse: IsbarTextOut
    raad: IsbarTextOut


class PointsOut(LLMOut):
    points: list[PointOut] = Field(min_length=1, max_length=MAX_POINTS_PER_CHUNK)


class DraftOut(LLMOut):
    isbar: IsbarOut
    points: list[PointOut] = Field(min_length=1, max_length=MAX_POINTS_PER_CHUNK)


class DraftTrace(BaseModel):
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
    skipped_calls: int = 0  # LLM questions not asked because the draft's time budget was spent
    problems: list[str] = Field(default_factory=list)

    def count(self, reply) -> None:
        """Add one LLM call's tokens."""
        self.calls += 1
        self.tokens_in += reply.tokens_in
        self.tokens_out += reply.tokens_out


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


