"""The realistic similar-case set (``tests/data/retrieval_real_da.jsonl``): cases grouped by failure mode, each with
its approved points and three ways staff would ask for it, plus off-topic questions. Loading validates it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, TypeAdapter

from vectorstore.schema import IndexedPoint

QueryForm = Literal["question", "opening", "title"]
FORMS: tuple[QueryForm, ...] = ("question", "opening", "title")
Split = Literal["dev", "heldout"]


class SetPoint(BaseModel):
    learning_point_id: str
    title: str
    what_happened: str
    category: str
    severity: str = ""
    safety_ii: bool = False


class SetQueries(BaseModel):
    question: str = Field(min_length=3, description="How staff ask: 'Har vi set …?'")
    opening: str = Field(min_length=3, description="The opening sentences of a new case about the same thing.")
    title: str = Field(min_length=3, description="A short title, as typed in a search box.")


class SetCase(BaseModel):
    """One published case. ``group`` is its failure mode (None: in the index as a distractor, not scored);
    cases with the same ``source_key`` retell one source, so leaving one out leaves out all of them."""

    kind: Literal["case"] = "case"
    case_id: str
    group: str | None
    split: Split | None
    sector: str
    language: str = "da"
    source_url: str
    source_key: str
    licence: str = Field(min_length=10)
    points: list[SetPoint] = Field(min_length=1)
    queries: SetQueries

    def indexed_points(self) -> list[IndexedPoint]:
        return [IndexedPoint(learning_point_id=p.learning_point_id, case_id=self.case_id, title=p.title,
                             text=f"{p.title}\n{p.what_happened}", sector=self.sector, category=p.category,
                             severity=p.severity, safety_ii=p.safety_ii, visibility="staff")
                for p in self.points]


class OffTopic(BaseModel):
    """A question nothing in the set answers: the search should say "nothing similar"."""

    kind: Literal["off_topic"] = "off_topic"
    query_id: str
    split: Split
    query: str


class RetrievalSet(BaseModel):
    cases: list[SetCase]
    off_topic: list[OffTopic]

    def relevant(self, case: SetCase) -> set[str]:
        """Other cases of the same failure mode that do not retell the same source."""
        return {c.case_id for c in self.cases
                if c.group == case.group and c.source_key != case.source_key}

    def left_out(self, case: SetCase) -> set[str]:
        """The case and every retelling of its source: absent from the index while it is the question."""
        return {c.case_id for c in self.cases if c.source_key == case.source_key}


_LINE = TypeAdapter(SetCase | OffTopic)


def load_retrieval_set(path: Path) -> RetrievalSet:
    """Read and check the set; a bad line raises ``ValueError`` naming the line."""
    cases, off = [], []
    for number, line in enumerate(Path(path).read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = _LINE.validate_python(json.loads(line))
        except ValueError as error:
            raise ValueError(f"{path}, line {number}: {error}") from error
        (cases if item.kind == "case" else off).append(item)
    ids = [c.case_id for c in cases]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{path}: a case id appears twice")
    return RetrievalSet(cases=cases, off_topic=off)
