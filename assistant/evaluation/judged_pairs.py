"""The similar-case search scored against learning agents' own judgements (``assistant.review.similarity_judgements``).

Each judged case asks the search with the text the Review tab asks with (its drafted points); the other case of a
"similar" pair should be among the top five cases, the other case of a "not similar" pair should not. A pair is
asked both ways, but only towards a case the index can hold (one with approved points): a case nobody can find
says nothing about the ranking. Each agent's judgement counts once, so agents who disagree both count.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from assistant.review.similarity_judgements import JudgementView, case_query_text, list_judgements
from assistant.settings import Settings
from assistant.store import Database
from assistant.store.tables import LearningPoint
from vectorstore.errors import EmptyQuery

TOP = 5


class JudgedQuery(BaseModel):
    """One direction of one judgement: the query case, the other case, the verdict and where the search put it."""

    query_case: str
    other_case: str
    similar: bool
    judged_by: str
    rank: int | None  # among the other cases, 1-based; None when not in the top ``TOP``

    @property
    def in_top(self) -> bool:
        return self.rank is not None


def _label(judgement: JudgementView, which: str) -> str:
    return getattr(judgement, f"case_{which}_reference") or getattr(judgement, f"case_{which}_id")


def _indexable(db: Database, case_ids: set[str]) -> set[str]:
    """The cases with approved points: the ones the search can return."""
    with db.session() as session:
        return set(session.scalars(select(LearningPoint.case_id).where(
            LearningPoint.case_id.in_(case_ids), LearningPoint.status == "approved").distinct()))


def _ranking(db: Database, index, case_id: str, k: int) -> list[str] | None:
    """The ``k`` cases the search finds for ``case_id``'s text, the case itself left out; None when it has no text."""
    with db.session() as session:
        text = case_query_text(session, case_id)
    try:
        found = index.similar_cases(text, k=k + 1)
    except EmptyQuery:
        return None
    return [match.case_id for match in found if match.case_id != case_id][:k]


def judged_queries(db: Database, index, judgements: list[JudgementView], k: int = TOP) -> tuple[list[JudgedQuery], int]:
    """Every scorable direction of every judgement, ranked; and how many directions could not be scored."""
    indexable = _indexable(db, {j.case_a_id for j in judgements} | {j.case_b_id for j in judgements})
    rankings: dict[str, list[str] | None] = {}
    runs, skipped = [], 0
    for judgement in judgements:
        for query, other in (("a", "b"), ("b", "a")):
            query_id, other_id = getattr(judgement, f"case_{query}_id"), getattr(judgement, f"case_{other}_id")
            if other_id not in indexable:
                skipped += 1
                continue
            if query_id not in rankings:
                rankings[query_id] = _ranking(db, index, query_id, k)
            ranking = rankings[query_id]
            if ranking is None:
                skipped += 1
                continue
            rank = ranking.index(other_id) + 1 if other_id in ranking else None
            runs.append(JudgedQuery(query_case=_label(judgement, query), other_case=_label(judgement, other),
                                    similar=judgement.similar, judged_by=judgement.judged_by, rank=rank))
    return runs, skipped


def _share(runs: list[JudgedQuery]) -> float | None:
    return round(sum(r.in_top for r in runs) / len(runs), 3) if runs else None


def evaluate_judgements(db: Database, index, k: int = TOP) -> dict[str, Any]:
    """Recall@k over "similar" pairs and the false-similar rate@k over "not similar" pairs, with the counts."""
    judgements = list_judgements(db)
    if not judgements:
        return {"judgements": 0}
    runs, skipped = judged_queries(db, index, judgements, k)
    similar = [r for r in runs if r.similar]
    not_similar = [r for r in runs if not r.similar]
    return {
        "judgements": len(judgements), "similar_judgements": sum(j.similar for j in judgements),
        "not_similar_judgements": sum(not j.similar for j in judgements), "k": k,
        "similar_queries": len(similar), "not_similar_queries": len(not_similar), "skipped_queries": skipped,
        f"recall@{k}": _share(similar), f"false_similar@{k}": _share(not_similar),
        "queries": [r.model_dump() for r in runs],
    }


def evaluate_stored_judgements(settings: Settings) -> dict[str, Any]:
    """:func:`evaluate_judgements` on the app's own store and learning index; a store not yet made has none."""
    url = settings.resolved_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return {"judgements": 0}
    from assistant.store import open_database

    db = open_database(settings)
    if not list_judgements(db):
        return {"judgements": 0}
    from vectorstore.index import LearningIndex

    return evaluate_judgements(db, LearningIndex(settings))
