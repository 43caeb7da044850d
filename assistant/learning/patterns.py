"""Patterns across cases: approved learning points grouped into themes by their embeddings, named by the LLM.

The vectors are the learning index's own (bundled e5). e5 vectors share one large common direction (raw cosine
similarities of unrelated Danish points lie between 0.79 and 0.93), so they are centred on the set's mean first;
then average-linkage agglomerative clustering on cosine distance, with the number of themes that gives the best
silhouette. On ``tests/data/themes_da.jsonl`` (72 points, 6 known themes) this recovers the themes with an
adjusted Rand index of 0.93; without centring the best fixed threshold reached 0.81 and collapsed nearby.

Theme labels are drafts: the LLM names a theme from its most central points and must cite them; when it cannot
(unavailable, invalid twice) the label is the theme's top keywords, and the theme says so.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, computed_field
from sqlalchemy import select

from assistant.auth import Actor, Permission
from assistant.indexing import point_text
from assistant.llm import ChatMessage, ChatModel
from assistant.references import point_reference
from assistant.store import Database
from assistant.store.tables import Case, LearningPoint

log = logging.getLogger(__name__)

Audience = Literal["staff", "public"]
PROMPT_ID = "name_theme"
MIN_THEME_SIZE = 2  # a single point is a case, not a pattern
MAX_THEMES = 25
MIN_POINTS = 3  # silhouette needs at least two groups and one point more
NAMING_POINTS = 6  # the most central points the LLM reads; more only slows the small model down
NAMING_MAX_TOKENS = 60
KEYWORDS = 5
PATTERN_COLUMNS = ["theme_id", "label", "month", "sector", "reference", "learning_point_id", "crosses_sectors"]
_STOPWORDS = Path(__file__).parent / "pattern_data" / "stopwords_da.txt"


def audience_visibility(audience: Audience) -> set[str]:
    """Which points an audience may see: the public only public points, staff both."""
    return {"public"} if audience == "public" else {"public", "staff"}


def month_of(day: dt.date | dt.datetime) -> str:
    return f"{day.year:04d}-{day.month:02d}"


class PatternPoint(BaseModel):
    """An approved point as pattern finding sees it: its indexed text and what it is counted by."""

    learning_point_id: str
    case_id: str
    reference: str = ""  # "UTH-2026-0142/2"
    title: str
    text: str
    what_happened: str
    what_went_well: list[str] = []
    sector: str
    unit: str = ""
    category: str
    safety_ii: bool = False
    visibility: str = "staff"
    day: dt.date = Field(description="Event date, else the day the case was received.")
    decided_at: dt.datetime | None = None

    @property
    def month(self) -> str:
        return month_of(self.day)


def approved_points(db: Database, *, since: dt.date | None = None, until: dt.date | None = None,
                    audience: Audience = "staff", decided_until: dt.datetime | None = None) -> list[PatternPoint]:
    """Approved points of the audience whose day falls in [since, until] (and decided by ``decided_until``)."""
    visible = audience_visibility(audience)
    with db.session() as session:
        rows = session.execute(
            select(LearningPoint, Case).join(Case, Case.id == LearningPoint.case_id)
            .where(LearningPoint.status == "approved", LearningPoint.visibility.in_(sorted(visible)))
            .order_by(LearningPoint.id)
        ).all()
        points = []
        for point, case in rows:
            day = case.event_date or case.created_at.date()
            if (since and day < since) or (until and day > until):
                continue
            if decided_until and point.decided_at and point.decided_at > decided_until:
                continue
            points.append(PatternPoint(
                learning_point_id=point.id, case_id=case.id,
                reference=point_reference(case.reference, point.number), title=point.title, text=point_text(point),
                what_happened=point.what_happened, what_went_well=list(point.what_went_well or []),
                sector=case.sector, unit=case.unit, category=point.category, safety_ii=point.safety_ii,
                visibility=point.visibility, day=day, decided_at=point.decided_at,
            ))
    return points


# -- vectors -----------------------------------------------------------------------------------------------------


class VectorSource(Protocol):
    """Where the points' vectors come from: the learning index, or an embedder for points not indexed."""

    def vectors(self, points: Sequence[PatternPoint]) -> np.ndarray:
        """One L2-normalised row per point, in order."""
        ...


class EmbedderVectors:
    """Embeds the points' texts with an embedder (the index's own, so no second model is ever loaded)."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder

    def vectors(self, points: Sequence[PatternPoint]) -> np.ndarray:
        if not points:
            return np.empty((0, self.embedder.dimension), dtype=np.float32)
        return np.asarray(self.embedder.embed_passages([p.text for p in points]), dtype=np.float32)


class IndexVectors:
    """The vectors the learning index already holds (embedding 1,000 points again takes ~50 s on two cores).

    A point missing from the index, or indexed with a text that no longer matches the store, is embedded with the
    index's own embedder, so every vector comes from the same model.
    """

    def __init__(self, index: Any) -> None:
        self.index = index

    def vectors(self, points: Sequence[PatternPoint]) -> np.ndarray:
        dimension = self.index.embedder.dimension
        out = np.zeros((len(points), dimension), dtype=np.float32)
        if not points:
            return out
        stored = self.index.stored_vectors([p.learning_point_id for p in points])
        missing = []
        for row, point in enumerate(points):
            document, vector = stored.get(point.learning_point_id, (None, None))
            if vector is None or document != point.text or len(vector) != dimension:
                missing.append(row)
            else:
                out[row] = np.asarray(vector, dtype=np.float32)
        if missing:
            log.info("%d of %d points not in the index as stored; embedding them", len(missing), len(points))
            out[missing] = self.index.embedder.embed_passages([points[row].text for row in missing])
        return out


# -- clustering ----------------------------------------------------------------------------------------------------


def _centred(vectors: np.ndarray) -> np.ndarray:
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return centred / np.where(norms == 0, 1.0, norms)


def cluster_vectors(vectors: np.ndarray, *, max_themes: int = MAX_THEMES,
                    min_size: int = MIN_THEME_SIZE) -> np.ndarray:
    """A theme number per row (0, 1, …, largest theme first), or -1 for points that fit no theme."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import pairwise_distances, silhouette_score

    n = len(vectors)
    if n < MIN_POINTS:
        return np.full(n, -1)
    vectors = np.asarray(vectors, dtype=np.float64)
    if float(np.ptp(vectors, axis=0).max()) < 1e-6:  # all the same text: one theme
        labels = np.zeros(n, dtype=int)
    else:
        distances = pairwise_distances(_centred(vectors), metric="cosine")
        best: tuple[float, np.ndarray] | None = None
        for k in range(2, min(max_themes, n - 1) + 1):
            model = AgglomerativeClustering(n_clusters=k, metric="precomputed", linkage="average")
            found = model.fit_predict(distances)
            score = silhouette_score(distances, found, metric="precomputed")
            if best is None or score > best[0]:
                best = (score, found)
        labels = best[1]
    sizes = Counter(labels.tolist())
    kept = sorted((label for label, size in sizes.items() if size >= min_size),
                  key=lambda label: (-sizes[label], int(np.flatnonzero(labels == label)[0])))
    renumber = {label: number for number, label in enumerate(kept)}
    return np.array([renumber.get(label, -1) for label in labels.tolist()])


def central_first(vectors: np.ndarray, members: np.ndarray) -> list[int]:
    """Row numbers of ``members`` ordered by closeness to their centre: the points most typical of the theme."""
    centred = _centred(np.asarray(vectors, dtype=np.float64))
    centre = centred[members].mean(axis=0)
    scores = centred[members] @ centre
    return [int(members[i]) for i in np.argsort(-scores, kind="stable")]


@lru_cache(maxsize=1)
def stopwords() -> tuple[str, ...]:
    lines = _STOPWORDS.read_text(encoding="utf-8").splitlines()
    return tuple(sorted({w.strip().casefold() for w in lines if w.strip() and not w.startswith("#")}))


def theme_keywords(texts: Sequence[str], labels: np.ndarray, n: int = KEYWORDS) -> dict[int, list[str]]:
    """The words that set each theme apart (TF-IDF over all points, weighted by how many members use them)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    themes = sorted({int(label) for label in labels.tolist() if label >= 0})
    if not themes:
        return {}
    vectoriser = TfidfVectorizer(stop_words=list(stopwords()), token_pattern=r"(?u)\b[^\W\d_]{3,}\b",
                                 sublinear_tf=True)
    try:
        matrix = vectoriser.fit_transform(texts)
    except ValueError:  # nothing but stop words
        return {theme: [] for theme in themes}
    words = vectoriser.get_feature_names_out()
    out = {}
    for theme in themes:
        rows = matrix[labels == theme]
        share = np.asarray((rows > 0).mean(axis=0)).ravel()
        score = np.asarray(rows.mean(axis=0)).ravel() * share
        order = [i for i in np.argsort(-score, kind="stable")[:n] if score[i] > 0]
        out[theme] = [str(words[i]) for i in order]
    return out


# -- naming ----------------------------------------------------------------------------------------------------------


class ThemeLabelOut(BaseModel):
    """What the LLM must answer for one theme."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    label: Annotated[str, StringConstraints(min_length=3, max_length=60)]
    cited: list[int] = Field(min_length=1, max_length=3)


class ThemeName(BaseModel):
    """A theme's draft label, who made it, and the member points it cites."""

    label: str
    source: Literal["llm", "keywords"]
    cited_ids: list[str]
    note: str = ""


def _label_schema(count: int) -> dict:
    return {
        "type": "object",
        "properties": {
            "label": {"type": "string", "maxLength": 60},
            "cited": {"type": "array", "items": {"type": "integer", "enum": list(range(1, count + 1))},
                      "minItems": 1, "maxItems": 3},
        },
        "required": ["label", "cited"],
    }


def _data_line(text: str, limit: int) -> str:
    # Points are data: they must not close the data block; long accounts are cut to keep the prompt short.
    text = " ".join(text.replace("<", "‹").replace(">", "›").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def keyword_label(keywords: list[str]) -> str:
    """The fallback label: the top keywords, capitalised."""
    return ", ".join(keywords[:3]).capitalize() if keywords else "–"


def _parse_label(text: str, count: int) -> tuple[ThemeLabelOut | None, str]:
    try:
        out = ThemeLabelOut.model_validate(json.loads(text))
    except json.JSONDecodeError as error:
        return None, f"invalid JSON ({error.msg})"
    except ValidationError as error:
        return None, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:3])
    wrong = [c for c in out.cited if not 1 <= c <= count]
    if wrong:
        return None, f"cited numbers not in the list: {wrong}"
    if out.label.count(",") >= 2:  # the small model likes to copy the keyword line
        return None, "the heading is a list of keywords; write a short heading in words"
    return out, ""


def name_theme(chat: ChatModel | None, members: Sequence[PatternPoint], keywords: list[str], *,
               retries: int = 1) -> ThemeName:
    """A short Danish label for a theme from its most central ``members``; never raises (falls back to keywords)."""
    from prompts import load_prompt

    shown = list(members[:NAMING_POINTS])
    fallback_cited = [p.learning_point_id for p in shown[:3]]
    if chat is None:
        return ThemeName(label=keyword_label(keywords), source="keywords", cited_ids=fallback_cited,
                         note="no language model")
    prompt = load_prompt(PROMPT_ID, "da")
    listing = "\n".join(f"[{n}] {_data_line(p.title, 100)}: {_data_line(p.what_happened, 160)}"
                        for n, p in enumerate(shown, start=1))
    messages = prompt.render(points=listing, keywords=", ".join(keywords) or "–")
    problem = ""
    for _attempt in range(retries + 1):
        try:
            reply = chat.complete_json(messages, _label_schema(len(shown)), NAMING_MAX_TOKENS)
        except Exception as error:  # noqa: BLE001 - naming is optional: any model failure means keywords
            problem = f"{type(error).__name__}: {error}"
            break
        out, problem = _parse_label(reply.text, len(shown)) if reply.finish_reason != "length" else (
            None, "answer cut off at the token limit")
        if out is not None:
            cited = [shown[c - 1].learning_point_id for c in dict.fromkeys(out.cited)]
            return ThemeName(label=out.label.strip(" .\"'"), source="llm", cited_ids=cited)
        messages = [*messages, ChatMessage(role="assistant", content=reply.text),
                    ChatMessage(role="user", content=prompt.text("retry", problem=problem))]
    log.info("theme named from keywords: %s", problem)
    return ThemeName(label=keyword_label(keywords), source="keywords", cited_ids=fallback_cited, note=problem)


# -- themes -------------------------------------------------------------------------------------------------------


class Theme(BaseModel):
    """One theme: its draft label, its members (most typical first), and how it spreads over time and sectors."""

    id: str
    label: str
    label_source: Literal["llm", "keywords"]
    label_note: str = ""
    keywords: list[str]
    member_ids: list[str]
    cited_ids: list[str]
    sectors: dict[str, int]
    months: dict[str, int]
    categories: dict[str, int]
    safety_ii: int

    @computed_field
    @property
    def size(self) -> int:
        return len(self.member_ids)

    @computed_field
    @property
    def crosses_sectors(self) -> bool:
        """Members from two sectors or more: the blind spot of reporting one sector at a time."""
        return len(self.sectors) >= 2

    @computed_field
    @property
    def first_month(self) -> str:
        return min(self.months)

    @computed_field
    @property
    def last_month(self) -> str:
        return max(self.months)


class Patterns(BaseModel):
    """Themes among the approved points of a period, with what made them (for the record and the reader)."""

    since: dt.date | None
    until: dt.date | None
    audience: Audience
    point_count: int
    themes: list[Theme]
    ungrouped_ids: list[str]
    model_id: str | None
    prompt: str
    seconds_vectors: float
    seconds_clustering: float
    seconds_naming: float
    points: dict[str, PatternPoint] = Field(default_factory=dict, exclude=True)

    def by_month(self) -> pd.DataFrame:
        """Columns theme, month, points: how each theme grows."""
        rows = [{"theme": f"{t.id} {t.label}", "month": m, "points": c}
                for t in self.themes for m, c in t.months.items()]
        return pd.DataFrame(rows, columns=["theme", "month", "points"]).sort_values(["month", "theme"],
                                                                                    ignore_index=True)

    def by_sector(self) -> pd.DataFrame:
        """Columns theme, sector, points: which sectors each theme reaches."""
        rows = [{"theme": f"{t.id} {t.label}", "sector": s, "points": c}
                for t in self.themes for s, c in t.sectors.items()]
        return pd.DataFrame(rows, columns=["theme", "sector", "points"])

    def to_csv(self) -> str:
        """One row per theme member (theme × month × sector), for a spreadsheet or a BI tool; the reference
        beside the id so rows join on what people read."""
        rows = [{"theme_id": t.id, "label": t.label, "month": p.month, "sector": p.sector, "reference": p.reference,
                 "learning_point_id": p.learning_point_id, "crosses_sectors": t.crosses_sectors}
                for t in self.themes for p in (self.points[i] for i in t.member_ids)]
        return pd.DataFrame(rows, columns=PATTERN_COLUMNS).to_csv(index=False)


def _counts(values: list[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


def find_patterns(db: Database, vectors: VectorSource, actor: Actor, *, chat: ChatModel | None = None,
                  since: dt.date | None = None, until: dt.date | None = None, audience: Audience = "staff",
                  decided_until: dt.datetime | None = None, max_themes: int = MAX_THEMES) -> Patterns:
    """Group the period's approved points into themes and name them; needs the reports permission."""
    from prompts import load_prompt

    actor.require(Permission.read_reports)
    points = approved_points(db, since=since, until=until, audience=audience, decided_until=decided_until)
    started = time.perf_counter()
    matrix = vectors.vectors(points)
    vectors_done = time.perf_counter()
    labels = cluster_vectors(matrix, max_themes=max_themes)
    keywords = theme_keywords([p.text for p in points], labels)
    clustered = time.perf_counter()
    themes = []
    for number in sorted(keywords):
        members = [points[row] for row in central_first(matrix, np.flatnonzero(labels == number))]
        name = name_theme(chat, members, keywords[number])
        themes.append(Theme(
            id=f"T{number + 1}", label=name.label, label_source=name.source, label_note=name.note,
            keywords=keywords[number], member_ids=[p.learning_point_id for p in members], cited_ids=name.cited_ids,
            sectors=_counts([p.sector for p in members]), months=_counts([p.month for p in members]),
            categories=_counts([p.category for p in members]), safety_ii=sum(p.safety_ii for p in members),
        ))
    prompt = load_prompt(PROMPT_ID, "da")
    return Patterns(
        since=since, until=until, audience=audience, point_count=len(points), themes=themes,
        ungrouped_ids=[p.learning_point_id for p, label in zip(points, labels.tolist()) if label < 0],
        model_id=getattr(chat, "model_id", None), prompt=f"{prompt.id} v{prompt.version}",
        seconds_vectors=round(vectors_done - started, 3), seconds_clustering=round(clustered - vectors_done, 3),
        seconds_naming=round(time.perf_counter() - clustered, 3),
        points={p.learning_point_id: p for p in points},
    )
