"""Word confidence kept in step with its segment's text, so a word list never says more than the text does."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from pydantic import BaseModel

from assistant.models import Segment, Word

_NOT_WORD = re.compile(r"\W+")


def _key(text: str) -> str:
    return _NOT_WORD.sub("", text.lower())


def align_words(words: list[Word], text: str) -> list[Word]:
    """``words`` re-cut to the tokens of ``text``: every word's text is a token of ``text``, in order.

    Used after pseudonymisation (and when segments are built), so a name the pseudonymiser replaced survives in
    no word: words it replaced become one word holding the placeholder, with their time span and the lowest of
    their probabilities; words it removed are dropped; text it added joins the word before it.
    """
    tokens = text.split()
    if not words or not tokens:
        return []
    matcher = SequenceMatcher(None, [_key(w.text) for w in words], [_key(t) for t in tokens], autojunk=False)
    aligned: list[Word] = []
    prefix: list[str] = []  # tokens added before the first word, joined to it
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                aligned.append(words[i1 + k].model_copy(update={"text": " ".join([*prefix, tokens[j1 + k]])}))
                prefix = []
        elif tag == "replace":
            group = words[i1:i2]
            aligned.append(Word(text=" ".join([*prefix, *tokens[j1:j2]]), start=group[0].start, end=group[-1].end,
                                probability=min(w.probability for w in group)))
            prefix = []
        elif tag == "insert":
            if aligned:
                last = aligned[-1]
                aligned[-1] = last.model_copy(update={"text": " ".join([last.text, *tokens[j1:j2]])})
            else:
                prefix.extend(tokens[j1:j2])
        # "delete": words whose text is gone from the segment are dropped with it
    return aligned


def _words_match(segment: Segment) -> bool:
    return bool(segment.words) and " ".join(w.text for w in segment.words) == " ".join(segment.text.split())


def marked_pieces(segment: Segment, threshold: float) -> list[tuple[str, bool]]:
    """The segment's text as (piece, uncertain) pairs, uncertain where a word's probability is below ``threshold``.

    A segment without words (typed notes, older transcripts, corrected lines), or whose words no longer match
    its text, is one unmarked piece.
    """
    if not _words_match(segment):
        return [(segment.text, False)]
    return [(w.text, w.probability < threshold) for w in segment.words]


def count_uncertain(segments: list[Segment], threshold: float) -> tuple[int, int]:
    """(words marked uncertain, words with a confidence) over ``segments``."""
    kept = [w for s in segments if _words_match(s) for w in s.words]
    return sum(w.probability < threshold for w in kept), len(kept)


class UncertainWord(BaseModel):
    """A word marked uncertain, where to find it (segment index, word position) and when it was said."""

    segment_index: int  # the segment's ``index``, as transcript lines and revisions name it
    word_index: int  # position in the segment's ``words``
    text: str
    start: float
    end: float
    probability: float

    @property
    def place(self) -> tuple[int, int]:
        return self.segment_index, self.word_index


def uncertain_words(segments: list[Segment], threshold: float) -> list[UncertainWord]:
    """Every word below ``threshold`` in transcript order: what a person checks against the recording.

    Segments whose words no longer match their text (corrected lines) have none, as in :func:`marked_pieces`.
    """
    return [
        UncertainWord(segment_index=s.index, word_index=i, text=w.text, start=w.start, end=w.end,
                      probability=w.probability)
        for s in sorted(segments, key=lambda s: s.index) if _words_match(s)
        for i, w in enumerate(s.words) if w.probability < threshold
    ]


def step_uncertain(words: list[UncertainWord], current: tuple[int, int] | None, forward: bool = True
                   ) -> UncertainWord | None:
    """The uncertain word after (or before) the place ``current``, wrapping round at the ends; None if none.

    Goes by place rather than by list position, so after a line was corrected (and its words dropped from the
    list) the next step still lands on the word that followed it. No ``current`` starts at the first (or last).
    """
    if not words:
        return None
    if current is None:
        return words[0] if forward else words[-1]
    if forward:
        return next((w for w in words if w.place > tuple(current)), words[0])
    return next((w for w in reversed(words) if w.place < tuple(current)), words[-1])
