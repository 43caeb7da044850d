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
_WORD_OR_STOP = re.compile(r"[\wæøåÆØÅ-]+|[.;:!?]")
CLAUSE_END = "|"  # stands for a full stop (or ; : ! ?): a negation does not reach past it. A comma does not end the
# clause a negation or a belief governs ("troede, at hun var død"); "og", "men" and the like do (``clause_breaks``).
NEGATION_WINDOW = 3  # words before a harm cue in which a negation cancels it ("ingen tegn på blødning")
VERB_WINDOW = 5  # the same, in the cue's clause, with a verb of getting or causing between ("ikke givet et mén")
AUTHORITY_WINDOW = 8  # words before a criticism word in which the body that judged the care is named
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
    hypothetical: list[str] = Field(default_factory=list)
    findings: list[str] = Field(default_factory=list)
    illnesses: list[str] = Field(default_factory=list)
    harm_verbs: list[str] = Field(default_factory=list)
    clause_breaks: list[str] = Field(default_factory=list)
    about_the_talk: list[str] = Field(default_factory=list)
    not_caused: list[str] = Field(default_factory=list)
    no_criticism: list[str] = Field(default_factory=list)
    criticism: list[str] = Field(default_factory=list)
    authorities: list[str] = Field(default_factory=list)
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
        """Success minus failure cues: > 0 tells of something that went well, < 0 of something that went wrong.
        Success denied or only hoped for ("svaret var ikke godt nok", "det kunne være gået godt") is none, nor
        success conceded before a "men", nor praise of the talk itself ("godt at få det sagt højt"), which says
        nothing of the event. A finding of no criticism ("fik ikke kritik") is no failure: its "ikke" and "kritik"
        do not count. Nor is it a success to learn from: it is often said of another party in a failed course."""
        if self.count(text, self.about_the_talk):
            return -self.count(text, self.failure)
        folded = _clauses(text)
        cleared = folded
        for phrase in self.no_criticism:
            cleared = _pattern(phrase).sub(" ", cleared)
        # "A, men B": B is what the speaker means, so success told before the last "men" is only a concession
        # ("det er en god ting, at vi tæller, men det skal føre til handling").
        told = folded[folded.rfind(" men ") + 4:] if " men " in folded else folded  # starts with a space either way
        success = sum(1 for cue in self.success if self._named(told, cue, found_is_not_harm=False))
        return success - self.count(cleared, self.failure)

    def severity_of(self, text: str, case_text: str | None = None) -> Severity | None:
        """The worst harm the text names as done, or None when it names none. Harm named just after a negation
        ("ingen blødning") or as a possibility ("hun kunne være død") does not count, nor an illness named as what
        an examination found ("røntgen viste lungebetændelse"), nor a death in a text that tells the patient was
        already dying or one the text (or ``case_text``, the whole talk, where the assessment may sit) does not tie
        to the event (``death_untied``). Each of these is left to the harm question and the reviewer."""
        folded = _clauses(text)
        illnesses = set(self.illnesses)
        for level in (Severity.fatal, Severity.severe, Severity.moderate, Severity.mild):
            named = any(self._named(folded, cue, found_is_not_harm=cue in illnesses)
                        for cue in self.severity.get(level, []))
            # whether a death was expected or untied is read only when one is named: this runs on every line
            if named and not (level == Severity.fatal and (self.count(text, self.dying) > 0
                                                           or self.death_untied(case_text or text))):
                return level
        return Severity.none if self.count(text, self.severity.get(Severity.none, [])) else None

    def death_untied(self, text: str) -> bool:
        """Whether the text says a death was not the event's doing: in so many words ("ville være død uanset",
        "ikke årsag til"), or by criticism that is only ever denied ("gav ingen kritik", "kritiserede ingen",
        "besluttet ikke at give kritik"). The death is then the illness's; the event's harm is the next level a
        word names, else the harm question's and the reviewer's."""
        folded = _clauses(text)
        if any(self._named(folded, cue, found_is_not_harm=False) for cue in self.not_caused):
            return True
        denials = self._criticism(folded)
        return bool(denials) and all(denied for denied, _ in denials)

    def no_fault(self, text: str) -> bool:
        """Whether the text tells an authority's finding of no criticism ("Styrelsen gav ikke hospitalet kritik",
        "nævnet kritiserede ingen") and affirms criticism of nobody. The care was then found to meet the standard:
        what went well, not a failure. A denial without an authority in its clause is not enough; in a debrief,
        "det er ikke en kritik" is how a colleague softens a failure, and "apoteket kunne ikke kritiseres" may
        point at another party's failure."""
        denials = self._criticism(_clauses(text))
        return bool(denials) and all(denied for denied, _ in denials) and any(by for _, by in denials)

    def _criticism(self, folded: str) -> list[tuple[bool, bool]]:
        """Each criticism word in ``folded``: whether it is denied, and whether an authority is named just before it
        in its sentence (``AUTHORITY_WINDOW`` words; "så" and "da" do not end the reach: "tilsynet har så besluttet
        ikke at give kritik")."""
        found = []
        for cue in self.criticism:
            for match in _pattern(cue).finditer(folded):
                denied = self._denied_at(folded, match.start(), self.hypothetical) or \
                    self._negated_after(folded, match.end())
                found.append((denied, self.count(_sentence_before(folded, match.start()), self.authorities) > 0))
        return found

    def _negated_after(self, folded: str, end: int) -> bool:
        """Whether the word after the one ``end`` falls in is a negation ("kritiserede ingen", "kritiserer ikke")."""
        tail = folded[end:]
        return bool(set(tail[tail.index(" "):].split()[:1]) & set(self.negations))

    def _named(self, folded: str, cue: str, found_is_not_harm: bool) -> bool:
        """Whether ``cue`` occurs in ``folded`` at least once as told, not denied (``_denied_at``); for an illness,
        an examination that found it also counts as not told."""
        maybe = [*self.hypothetical, *(self.findings if found_is_not_harm else [])]
        return any(not self._denied_at(folded, match.start(), maybe) for match in _pattern(cue).finditer(folded))

    def _denied_at(self, folded: str, start: int, maybe: list[str]) -> bool:
        """Whether the words before ``start`` deny what follows: a negation just before it (or a little further,
        with a verb of getting or causing between: "ikke havde givet et varigt mén"), or one of ``maybe`` (a
        possibility, a finding) in its clause."""
        negations = set(self.negations)
        before = folded[:start].split()
        if before[-1:] == ["eller"]:  # a list carries the negation on, commas and all
            return bool(negations & set(before[-LIST_WINDOW:]))
        breaks, verbs = set(self.clause_breaks) | {CLAUSE_END}, set(self.harm_verbs)
        clause = before[-VERB_WINDOW:]
        clause = clause[max((i + 1 for i, w in enumerate(clause) if w in breaks), default=0):]
        negated = any(w in negations and (len(clause) - i <= NEGATION_WINDOW or verbs & set(clause[i + 1:]))
                      for i, w in enumerate(clause))
        said = " " + " ".join(clause) + " "
        return negated or any(f" {marker} " in said for marker in maybe)

    def category_leaders(self, text: str) -> list[str]:
        """The categories (ids, sorted) whose words the text uses most; empty when it uses none. More than one is a
        tie the words cannot settle."""
        votes = {cid: self.count(text, cues) for cid, cues in self.categories.items()}
        top = max(votes.values(), default=0)
        return sorted(cid for cid, n in votes.items() if n == top and n > 0)


def _clauses(text: str) -> str:
    """Lower-case words of ``text`` between spaces, each full stop (or ; : ! ?) as ``CLAUSE_END``."""
    return " " + " ".join(CLAUSE_END if w in ".;:!?" else w for w in _WORD_OR_STOP.findall(text.casefold())) + " "


def _sentence_before(folded: str, at: int) -> str:
    """Up to ``AUTHORITY_WINDOW`` words of ``folded`` (see ``_clauses``) before position ``at``, in its sentence."""
    before = folded[:at].split()[-AUTHORITY_WINDOW:]
    start = max((i + 1 for i, w in enumerate(before) if w == CLAUSE_END), default=0)
    return " " + " ".join(before[start:]) + " "


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
