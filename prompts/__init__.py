"""Versioned prompt templates and the category taxonomy, kept as YAML data and loaded by id.

A prompt lives in ``prompts/<id>.<language>.yaml``::

    id: draft_case            # must match the file name
    version: "1"              # stored with everything the prompt produced; bump it on any change
    language: da              # must match the file name
    description: >            # optional: what the prompt is for
    system: |                 # placeholders are {name}; other braces (JSON) are left alone
    user: |
    texts:                    # optional named snippets the caller picks from (e.g. task variants)
      name: text
    examples:                 # optional few-shot turns, placed between the system and the real user turn
      - values: {transcript: ...}   # filled into the user template (or `user:` for a literal message)
        assistant: |                # the expected reply

The taxonomy lives in ``prompts/taxonomy.yaml`` (fixed ids, Danish and English labels and descriptions).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PROMPTS_DIR = Path(__file__).resolve().parent
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")

__all__ = [
    "Category",
    "ChatMessage",
    "Prompt",
    "PromptError",
    "PromptExample",
    "available_prompts",
    "category_ids",
    "load_prompt",
    "load_taxonomy",
    "normalise_category",
    "taxonomy_version",
]


class PromptError(ValueError):
    """A prompt or taxonomy file is missing or malformed, or a template lacks a value: a programming error."""


class ChatMessage(BaseModel):
    """One turn of a chat, as every chat model backend takes it."""

    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class PromptExample(BaseModel):
    """A few-shot turn: either template values or a literal user message, and the reply we want."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    values: dict[str, str] | None = None
    user: str | None = None
    assistant: str

    @model_validator(mode="after")
    def _one_user_form(self) -> PromptExample:
        if (self.values is None) == (self.user is None):
            raise ValueError("an example needs exactly one of 'values' or 'user'")
        return self


class Prompt(BaseModel):
    """A loaded prompt; ``id`` and ``version`` are recorded with every output it produced."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str = Field(min_length=1)
    language: Literal["da", "en"]
    description: str = ""
    system: str = Field(min_length=1)
    user: str = Field(min_length=1)
    texts: dict[str, str] = Field(default_factory=dict)
    examples: list[PromptExample] = Field(default_factory=list)

    @property
    def placeholders(self) -> set[str]:
        """The names the system and user templates need."""
        return set(_PLACEHOLDER.findall(self.system)) | set(_PLACEHOLDER.findall(self.user))

    def text(self, name: str, **values: Any) -> str:
        """A named snippet from ``texts``, with its ``{name}`` placeholders filled from ``values``."""
        if name not in self.texts:
            raise PromptError(f"prompt {self.id!r} ({self.language}) has no text {name!r}; has {sorted(self.texts)}")
        return self._fill(self.texts[name], values)

    def render(self, *, include_examples: bool = True, **values: Any) -> list[ChatMessage]:
        """System message, few-shot turns, then the user turn, with ``{name}`` filled from ``values``.

        Static parts come first so a backend that caches the prompt prefix (llama.cpp does) reuses them.
        """
        messages = [ChatMessage(role="system", content=self._fill(self.system, values))]
        if include_examples:
            for example in self.examples:
                if example.values is not None:
                    user = self._fill(self.user, {**values, **example.values})
                else:
                    user = example.user or ""
                messages.append(ChatMessage(role="user", content=user))
                messages.append(ChatMessage(role="assistant", content=example.assistant.strip()))
        messages.append(ChatMessage(role="user", content=self._fill(self.user, values)))
        return messages

    def _fill(self, template: str, values: dict[str, Any]) -> str:
        missing = sorted(set(_PLACEHOLDER.findall(template)) - set(values))
        if missing:
            raise PromptError(f"prompt {self.id!r} ({self.language}) needs values for {missing}")
        # One pass over the template: values are never re-scanned, so braces inside them stay literal.
        return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template).strip()


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise PromptError(f"{path.name} is not valid YAML: {exc}") from exc


@lru_cache(maxsize=None)
def load_prompt(prompt_id: str, language: str = "da") -> Prompt:
    """The prompt ``prompt_id`` in ``language``, validated; raises :class:`PromptError` with what is wrong."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", prompt_id or "") or language not in ("da", "en"):
        raise PromptError(f"unknown prompt {prompt_id!r} in language {language!r}")
    path = PROMPTS_DIR / f"{prompt_id}.{language}.yaml"
    if not path.is_file():
        known = sorted({p.split(".")[0] for p, _ in available_prompts()})
        raise PromptError(f"unknown prompt {prompt_id!r} in language {language!r}; known prompts: {known}")
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise PromptError(f"{path.name} must be a mapping with id, version, language, system and user")
    try:
        prompt = Prompt.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(file)'}: {e['msg']}" for e in exc.errors())
        raise PromptError(f"{path.name} is not a valid prompt: {problems}") from None
    if (prompt.id, prompt.language) != (prompt_id, language):
        raise PromptError(
            f"{path.name} declares id {prompt.id!r} and language {prompt.language!r}; they must match its name"
        )
    return prompt


def available_prompts() -> list[tuple[str, str]]:
    """Every (prompt id, language) pair on disk."""
    pairs = []
    for path in sorted(PROMPTS_DIR.glob("*.*.yaml")):
        prompt_id, language = path.name.removesuffix(".yaml").rsplit(".", 1)
        pairs.append((prompt_id, language))
    return pairs


# -- taxonomy ------------------------------------------------------------------------------------------------


class Category(BaseModel):
    """One fixed category of patient-safety event; ``id`` is what drafts, the index and filters store."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z_]*$")
    label_da: str
    label_en: str
    description_da: str
    description_en: str

    def label(self, language: str = "da") -> str:
        return self.label_en if language == "en" else self.label_da

    def description(self, language: str = "da") -> str:
        return self.description_en if language == "en" else self.description_da


class _Taxonomy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    categories: list[Category] = Field(min_length=1)


@lru_cache(maxsize=1)
def _taxonomy() -> _Taxonomy:
    path = PROMPTS_DIR / "taxonomy.yaml"
    try:
        taxonomy = _Taxonomy.model_validate(_read_yaml(path))
    except ValidationError as exc:
        raise PromptError(f"taxonomy.yaml is not valid: {exc}") from None
    ids = [c.id for c in taxonomy.categories]
    if len(ids) != len(set(ids)) or "andet" not in ids:
        raise PromptError("taxonomy.yaml needs unique ids and the catch-all 'andet'")
    return taxonomy


def load_taxonomy() -> list[Category]:
    """The fixed category taxonomy, in display order."""
    return list(_taxonomy().categories)


def taxonomy_version() -> str:
    return _taxonomy().version


def category_ids() -> set[str]:
    """The ids a learning point's category may take."""
    return {c.id for c in _taxonomy().categories}


def _fold(text: str) -> str:
    text = text.strip().lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]+", "_", text).strip("_")


def normalise_category(name: str) -> str | None:
    """The taxonomy id that ``name`` means (an id, a label in either language, a close misspelling), else None."""
    from rapidfuzz import fuzz, process

    folded = _fold(name or "")
    if not folded:
        return None
    choices: dict[str, str] = {}
    for c in _taxonomy().categories:
        for alias in (c.id, c.label_da, c.label_en):
            choices[_fold(alias)] = c.id
    if folded in choices:
        return choices[folded]
    # The start of a longer id ("overgange"), then a near-spelling ("medicine", "infektioner").
    starts = {cid for alias, cid in choices.items() if len(folded) >= 4 and alias.startswith(folded)}
    if len(starts) == 1:
        return starts.pop()
    best = process.extractOne(folded, list(choices), scorer=fuzz.ratio, score_cutoff=80)
    return choices[best[0]] if best else None
