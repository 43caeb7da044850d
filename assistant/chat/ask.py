"""Staff ask about similar past cases: retrieval over approved points, and answers where every sentence cites.

"No citation, no claim": the model is asked to end each sentence with ``[n]``; sentences that cite nothing,
or cite a point that was not retrieved, are dropped before anyone sees them. Retrieved text sits in a data
block, and sentences in it that address the AI are taken out first (:mod:`assistant.privacy.injection`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel

from assistant.auth import Actor, Permission
from assistant.errors import InvalidInput
from assistant.i18n import translate
from assistant.privacy import remove_instructions
from assistant.settings import Settings
from assistant.store import Database
from assistant.store.tables import AnswerRating
from vectorstore.schema import CaseMatch, Hit, SearchFilters

_CITATION = re.compile(r"\[(\d{1,2}(?:\s*,\s*\d{1,2})*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_LEADING_CITATIONS = re.compile(r"^\s*(\[\d{1,2}(?:\s*,\s*\d{1,2})*\][.,]?\s*)+")


class SimilarResult(BaseModel):
    """Ranked points, the same hits as cases (each case's matching points together), and whether nothing is
    similar enough to show as such."""

    hits: list[Hit]
    nothing_similar: bool
    cases: list[CaseMatch] = []


class Citation(BaseModel):
    """A point an answer rests on: ids for links, the reference (``UTH-2026-0142/2``) for people."""

    case_id: str
    learning_point_id: str
    title: str
    reference: str = ""
    case_reference: str = ""

    @property
    def label(self) -> str:
        return _label(self)


def _label(point: Citation | Hit) -> str:
    """``[UTH-2026-0142/2]``; a point indexed before references existed keeps its ids until the index is repaired."""
    return f"[{point.reference}]" if point.reference else f"[{point.case_id} / {point.learning_point_id}]"


class AnswerEvent(BaseModel):
    """A piece of a streamed answer. The first event lists the retrieved ``sources`` (shown at once, before the
    model has read them); the last carries the citations the answer actually used."""

    text_delta: str = ""
    done: bool = False
    sources: list[Citation] = []
    citations: list[Citation] = []
    nothing_similar: bool = False


def _visible_filters(actor: Actor, filters: SearchFilters | None) -> SearchFilters:
    filters = filters.model_copy() if filters else SearchFilters()
    allowed = {"public", "staff"} if actor.can(Permission.read_staff_points) else {"public"}
    actor.require(Permission.read_public_points)
    filters.visibility = set(filters.visibility or allowed) & allowed or {"public"}
    return filters


def similar_cases(index, actor: Actor, query: str, filters: SearchFilters | None = None, k: int = 5,
                  threshold: float | None = None) -> SimilarResult:
    """Ranked approved points like ``query`` that ``actor`` may see; says when nothing is similar enough."""
    if not query or not query.strip():
        raise InvalidInput("ask.empty_question")
    hits, cases = index.similar_points_and_cases(query.strip(), _visible_filters(actor, filters), k=k)
    return SimilarResult(hits=hits, cases=cases, nothing_similar=index.nothing_similar(hits, threshold))


def _shortened(text: str, words: int) -> str:
    """At most ``words`` words: the title and what happened come first in a point's text, so they survive."""
    kept = text.split(" ")
    return text if len(kept) <= words else " ".join(kept[:words]).rstrip(",;:") + " …"


def _render_points(hits: list[Hit], words: int | None = None) -> str:
    blocks = []
    for n, hit in enumerate(hits, start=1):
        # Angle brackets become look-alikes, as in drafting: stored text can neither close <data> early nor
        # spell a chat-template token such as <|im_start|>.
        text, _ = remove_instructions(hit.text.replace("<", "‹").replace(">", "›"))
        blocks.append(f"[{n}] ({hit.category}, {hit.sector}) {_shortened(text, words) if words else text}")
    return "\n\n".join(blocks)


def _citation(hit: Hit) -> Citation:
    return Citation(case_id=hit.case_id, learning_point_id=hit.learning_point_id, title=hit.title,
                    reference=hit.reference, case_reference=hit.case_reference)


def _cited(sentence: str, hits: list[Hit]) -> tuple[str, list[int]] | None:
    """The sentence with its ``[n]`` turned into the point's reference (``[UTH-2026-0142/2]``), or None if it cites
    nothing retrieved."""
    numbers: list[int] = []
    for match in _CITATION.finditer(sentence):
        numbers += [int(x) for x in match.group(1).split(",")]
    valid = [n for n in numbers if 1 <= n <= len(hits)]
    if not valid or len(valid) != len(numbers):
        return None
    if len(re.findall(r"\w{2,}", _CITATION.sub("", sentence))) < 2:
        return None  # a bare "[1]" or "Ja [1]" cites but says nothing

    def label(match: re.Match) -> str:
        ids = [int(x) for x in match.group(1).split(",")]
        return " ".join(_label(hits[i - 1]) for i in ids)

    return _CITATION.sub(label, sentence).strip(), valid


def stream_answer(index, chat, settings: Settings, actor: Actor, question: str,
                  filters: SearchFilters | None = None, *, language: str | None = None) -> Iterator[AnswerEvent]:
    """Stream a cited answer sentence by sentence; the last event lists what was cited."""
    from prompts import load_prompt

    language = language or settings.ui_language
    found = similar_cases(index, actor, question, filters, k=settings.retrieval_k)
    if found.nothing_similar:
        yield AnswerEvent(text_delta=translate("ask.nothing_similar", language), done=True, nothing_similar=True)
        return
    yield AnswerEvent(sources=[_citation(h) for h in found.hits])
    # The model reads only the nearest few points, shortened: on two CPU cores every prompt token costs ~15 ms
    # before the first word appears. The sources above still list every retrieved point.
    hits = found.hits[: settings.answer_points]
    messages = load_prompt("answer_question", language).render(
        question=question.strip(), points=_render_points(hits, settings.answer_point_words)
    )
    used: list[int] = []
    buffer, pending = "", ""
    emitted = False

    def emit(sentence: str) -> Iterator[AnswerEvent]:
        nonlocal emitted
        cited = _cited(sentence, hits)
        if cited:
            text, numbers = cited
            used.extend(n for n in numbers if n not in used)
            yield AnswerEvent(text_delta=("" if not emitted else " ") + text)
            emitted = True

    def take(sentence: str) -> Iterator[AnswerEvent]:
        # Small models often write "… sentence. [1]": a leading citation belongs to the sentence before.
        nonlocal pending
        leading = _LEADING_CITATIONS.match(sentence)
        if leading and pending:
            pending += " " + leading.group(0).strip()
            sentence = sentence[leading.end():]
        if pending:
            yield from emit(pending)
            pending = ""
        sentence = sentence.strip()
        if _CITATION.search(sentence):
            yield from emit(sentence)  # complete and cited: show it now rather than after the next sentence
        else:
            pending = sentence  # its citation may still follow ("… sentence. [1]")

    for token in chat.stream(messages, max_tokens=300):
        buffer += token
        parts = _SENTENCE_END.split(buffer)
        if len(parts) > 1:
            buffer = parts[-1]
            for part in parts[:-1]:
                if part.strip():
                    yield from take(part)
    if buffer.strip():
        yield from take(buffer)
    if pending:
        yield from emit(pending)
    if not emitted:
        # The model wrote nothing we could stand behind: show the sources instead of an uncited claim.
        listing = "\n".join(f"- {h.title} {_label(h)}" for h in hits)
        used = list(range(1, len(hits) + 1))
        yield AnswerEvent(text_delta=translate("ask.no_cited_answer", language) + "\n" + listing)
    yield AnswerEvent(done=True, citations=[_citation(hits[n - 1]) for n in used])


def answer_question(index, chat, settings: Settings, actor: Actor, question: str,
                    filters: SearchFilters | None = None, *, language: str | None = None) -> AnswerEvent:
    """The whole answer at once (CLI, tests): text plus citations."""
    text, last = "", AnswerEvent()
    for event in stream_answer(index, chat, settings, actor, question, filters, language=language):
        text += event.text_delta
        last = event
    return AnswerEvent(text_delta=text, done=True, citations=last.citations, nothing_similar=last.nothing_similar)


def rate_answer(db: Database, actor: Actor, question: str, answer: str, cited_ids: list[str], helpful: bool,
                comment: str | None = None) -> None:
    """Keep a thumbs up/down (and comment) for evaluating answers later."""
    actor.require(Permission.read_public_points)
    with db.session() as session:
        session.add(AnswerRating(actor=actor.name, question=question, answer=answer, cited_ids=cited_ids,
                                 helpful=helpful, comment=(comment or None)))
