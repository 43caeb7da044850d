"""Word cues from ``prompts/drafting_cues.yaml``: ISBAR part, went wrong or well, harm and category of a text.

They are the small model's second opinion: cheap, explainable, and checked against the same transcript lines the
reviewer sees. A cue matches at the start of a word; a cue of several words matches that phrase; a cue ending in
"$" matches the whole word only.
"""

from __future__ import annotations

import re
from functools import lru_cache

import yaml
from pydantic import BaseModel, ConfigDict, Field

from assistant.models import IsbarPart, Severity
from prompts import PROMPTS_DIR

CUES_FILE = PROMPTS_DIR / "drafting_cues.yaml"
_WORD = re.compile(r"[\wæøåÆØÅ-]+")
NEGATION_WINDOW = 3  # words before a harm cue in which a negation cancels it ("ingen tegn på blødning")
LIST_WINDOW = 6  # the same after "eller", which carries a negation on through a list ("ingen blødning eller feber")


class Cues(BaseModel):
    """The cue lists, validated; ``version`` is stored with each draft made with them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    danish: list[str]
    fillers: list[str]
    questions: list[str]
    backchannel: list[str]
    isbar: dict[IsbarPart, list[str]]
    failure: list[str] = Field(min_length=1)
    success: list[str] = Field(min_length=1)
    severity: dict[Severity, list[str]]
    negations: list[str] = Field(min_length=1)
    dying: list[str] = Field(default_factory=list)
    categories: dict[str, list[str]]

    def count(self, text: str, cues: list[str]) -> int:
        """How many of ``cues`` occur in ``text`` (each counted once)."""
        folded = " " + " ".join(words(text)) + " "
        return sum(1 for cue in cues if _pattern(cue).search(folded))

    def content(self, text: str) -> str:
        """``text`` without hesitation ("øh") and without backchannel words at its start ("ja altså vi" → "vi")."""
        fillers, opening = set(self.fillers), set(self.backchannel)
        kept = [w for w in text.split() if w.strip(",.!?;:").casefold() not in fillers]
        while kept and kept[0].strip(",.!?;:").casefold() in opening:
            kept.pop(0)
        return " ".join(kept).strip(" ,")

    @property
    def empty_words(self) -> frozenset[str]:
        """Hesitation and backchannel: words that carry no content."""
        return frozenset(self.fillers) | frozenset(self.backchannel)

    def content_words(self, text: str) -> int:
        """How many words of ``text`` are neither hesitation nor backchannel."""
        empty = self.empty_words
        return sum(1 for w in words(text) if w not in empty)

    def asks(self, text: str) -> bool:
        """Whether the line is a question (a facilitator's, or "skal vi tage den") rather than an account."""
        if text.rstrip().endswith("?"):
            return True
        opening = " " + " ".join(words(self.content(text))[:3]) + " "
        return any(opening.startswith(f" {cue} ") for cue in self.questions)

    def polarity(self, text: str) -> int:
        """Success minus failure cues: > 0 tells of something that went well, < 0 of something that went wrong."""
        return self.count(text, self.success) - self.count(text, self.failure)

    def severity_of(self, text: str) -> Severity | None:
        """The worst harm the text names, or None when it names none; harm named just after a negation ("ingen
        blødning") does not count, nor a death in a text that tells the patient was already dying."""
        folded = " " + " ".join(words(text)) + " "
        expected_death = self.count(text, self.dying) > 0
        for level in (Severity.fatal, Severity.severe, Severity.moderate, Severity.mild):
            if level == Severity.fatal and expected_death:
                continue
            if any(self._named(folded, cue) for cue in self.severity.get(level, [])):
                return level
        return Severity.none if self.count(text, self.severity.get(Severity.none, [])) else None

    def _named(self, folded: str, cue: str) -> bool:
        """Whether ``cue`` occurs in ``folded`` at least once with no negation among the words just before it."""
        negations = set(self.negations)
        for match in _pattern(cue).finditer(folded):
            before = folded[:match.start()].split()
            window = LIST_WINDOW if before[-1:] == ["eller"] else NEGATION_WINDOW
            if not negations & set(before[-window:]):
                return True
        return False

    def category_leaders(self, text: str) -> list[str]:
        """The categories (ids, sorted) whose words the text uses most; empty when it uses none. More than one is a
        tie the words cannot settle."""
        votes = {cid: self.count(text, cues) for cid, cues in self.categories.items()}
        top = max(votes.values(), default=0)
        return sorted(cid for cid, n in votes.items() if n == top and n > 0)


def words(text: str) -> list[str]:
    """Lower-case words of ``text``."""
    return [w.casefold() for w in _WORD.findall(text)]


@lru_cache(maxsize=4096)
def _pattern(cue: str) -> re.Pattern[str]:
    whole = cue.endswith("$")
    body = r"\s+".join(re.escape(w) for w in cue.removesuffix("$").casefold().split())
    return re.compile(r"(?<=\s)" + body + (r"(?=\s)" if whole else ""))


@lru_cache(maxsize=1)
def load_cues() -> Cues:
    """The cue file, validated once per process."""
    return Cues.model_validate(yaml.safe_load(CUES_FILE.read_text(encoding="utf-8")))
