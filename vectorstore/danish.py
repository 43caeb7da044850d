"""Danish text → search terms for the sparse (BM25) index: stop words out, Snowball stems, clinical synonyms in.

The word lists are data files (``vectorstore/data``): the stop words, and a synonym list that learning agents may
edit. A bad synonym line is refused when the analyser is made (at start), naming the file and the line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import Stemmer

from vectorstore.errors import SynonymFileInvalid

DATA = Path(__file__).resolve().parent / "data"
STOP_WORDS_FILE = DATA / "stopwords_da.txt"
SYNONYMS_FILE = DATA / "synonyms_da.txt"

_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_MARKUP = re.compile(r"<[^>]{0,200}>|&[a-z]{2,8};|&#\d{1,6};")
_SYNONYM_TERM = re.compile(r"^[a-zæøåéüö0-9][a-zæøåéüö0-9 \-]*$")
# Snowball's Danish stemmer keeps -ing/-ning ("forveksling" ≠ "forvekslet"); verbal nouns share a stem this way.
_VERBAL_NOUN = re.compile(r"(?<=[a-zæøå]{4})n?ing$")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def plain_text(text: str) -> str:
    """The text without markup (tags, entities) and with whitespace collapsed: what there is to search for."""
    return " ".join(_MARKUP.sub(" ", text or "").split())


def has_words(text: str) -> bool:
    """Whether ``text`` holds any letters or digits once markup is removed."""
    return bool(_WORD.search(plain_text(text)))


def _read_lines(path: Path) -> Iterable[tuple[int, str]]:
    for number, raw in enumerate(path.read_text("utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            yield number, line


def read_stop_words(path: Path = STOP_WORDS_FILE) -> frozenset[str]:
    """One word a line; ``#`` comments and blank lines skipped."""
    return frozenset(_fold(line) for _, line in _read_lines(path))


def read_synonyms(path: Path = SYNONYMS_FILE) -> list[tuple[str, ...]]:
    """Groups of equivalent terms, one comma-separated group a line; a bad line raises :class:`SynonymFileInvalid`."""
    try:
        lines = list(_read_lines(Path(path)))
    except (OSError, UnicodeDecodeError) as error:
        raise SynonymFileInvalid(file=str(path), line=0, reason=str(error)) from error
    groups = []
    for number, line in lines:
        terms = [_fold(term).strip() for term in line.split(",")]
        if any(not term for term in terms):
            raise SynonymFileInvalid(file=str(path), line=number, reason="empty term (two commas in a row?)")
        bad = [term for term in terms if not _SYNONYM_TERM.match(term)]
        if bad:
            raise SynonymFileInvalid(file=str(path), line=number, reason=f"not a word or phrase: {bad[0]!r}")
        if len(set(terms)) < 2:
            raise SynonymFileInvalid(file=str(path), line=number, reason="a group needs two different terms")
        groups.append(tuple(dict.fromkeys(terms)))
    return groups


class DanishAnalyser:
    """Turns texts and queries into stemmed terms; queries also get the synonyms of what they say."""

    def __init__(self, synonyms_file: Path | None = None, stop_words_file: Path = STOP_WORDS_FILE) -> None:
        self.stop_words = read_stop_words(stop_words_file)
        self._stemmer = Stemmer.Stemmer("danish")
        self.synonyms_file = Path(synonyms_file or SYNONYMS_FILE)
        # Each group as stem sequences; a term's stems map to every other term's stems.
        self._expansions: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for group in read_synonyms(self.synonyms_file):
            stemmed = [tuple(self._stems(term, keep_stop_words=True)) for term in group]
            stemmed = [s for s in dict.fromkeys(stemmed) if s]
            for s in stemmed:
                self._expansions.setdefault(s, []).extend(o for o in stemmed if o != s)
        self._longest = max((len(s) for s in self._expansions), default=1)

    def _stems(self, text: str, keep_stop_words: bool = False) -> list[str]:
        words = []
        for match in _WORD.finditer(_fold(text)):
            for word in match.group(0).split("-"):
                if len(word) < 2 or (not keep_stop_words and word in self.stop_words):
                    continue
                words.append(word)
        return [_VERBAL_NOUN.sub("", stem) for stem in self._stemmer.stemWords(words)]

    def terms(self, text: str) -> list[str]:
        """The stemmed content words of an indexed text, in order (repeats kept: they count in BM25)."""
        return self._stems(plain_text(text))

    def query_terms(self, query: str, max_terms: int = 64) -> list[str]:
        """The stemmed content words of a question, each once, plus its synonyms; long texts keep the first
        ``max_terms`` distinct words (a description's opening says what happened)."""
        stems = list(dict.fromkeys(self._stems(plain_text(query))))[:max_terms]
        expanded = list(stems)
        for size in range(self._longest, 0, -1):
            for start in range(len(stems) - size + 1):
                for other in self._expansions.get(tuple(stems[start : start + size]), []):
                    expanded.extend(other)
        return list(dict.fromkeys(expanded))


@lru_cache(maxsize=4)
def analyser(synonyms_file: Path | None = None) -> DanishAnalyser:
    """One shared analyser per synonym file (loading the lists and the stemmer once per process)."""
    return DanishAnalyser(synonyms_file)
