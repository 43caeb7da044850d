"""Each machine keeps its own BM25 file beside a Chroma shared by all (a Chroma server): writes made on one machine
reach the others' word search, edits by their new words, and an erased case's words leave every machine's file."""

from __future__ import annotations

import sqlite3

import pytest

from vectorstore.index import LearningIndex
from vectorstore.schema import IndexedPoint
from vectorstore.sparse import SparseIndex


def point(pid: str, case_id: str, text: str) -> IndexedPoint:
    return IndexedPoint(learning_point_id=pid, case_id=case_id, title=text.split(".")[0], text=text,
                        sector="hospital", category="fald")


@pytest.fixture
def machines(index: LearningIndex, settings, tmp_path) -> tuple[LearningIndex, LearningIndex]:
    """Two app machines: one Chroma (the same client), a BM25 file each."""
    other = settings.model_copy(update={"data_dir": tmp_path / "second-machine"})
    second = LearningIndex(other, embedder=index.embedder, client=index._client)
    assert second.sparse.path != index.sparse.path
    return index, second


def words_found(index: LearningIndex, query: str) -> set[str]:
    return {pid for pid, _ in index.sparse.search(query)}


def test_points_written_on_one_machine_reach_the_other_machines_word_search(machines) -> None:
    first, second = machines
    first.upsert([point("lp-1", "c-1", "Sengehesten manglede. Patienten faldt ud af sengen om natten.")])
    assert words_found(second, "sengehest") == set()  # behind until it looks

    assert second.catch_up_sparse() == 1
    assert words_found(second, "sengehest") == {"lp-1"}
    assert second.catch_up_sparse() == 0  # nothing new: only the token was read


def test_an_edit_elsewhere_is_found_by_its_new_words_and_an_erasure_leaves_no_words(machines) -> None:
    first, second = machines
    first.upsert([point("lp-1", "c-1", "Sengehesten manglede. Patienten faldt om natten."),
                  point("lp-2", "c-2", "Insulin givet to gange. Vagtskiftet nævnte ikke den første dosis.")])
    second.catch_up_sparse()
    first.upsert([point("lp-1", "c-1", "Sengealarmen var slukket. Patienten faldt om natten.")])  # same id, new text
    first.delete_case("c-2")

    assert second.catch_up_sparse() == 2
    assert words_found(second, "sengealarm") == {"lp-1"} and words_found(second, "sengehest") == set()
    assert words_found(second, "insulin") == set() and second.sparse.ids() == {"lp-1"}


def test_a_machine_that_missed_a_write_notices_it_even_after_writing_itself(machines) -> None:
    first, second = machines
    first.upsert([point("lp-1", "c-1", "Sengehesten manglede. Patienten faldt om natten.")])
    second.upsert([point("lp-2", "c-2", "Forbytning af medicin. En beboer fik en anden beboers tabletter.")])
    # second's own write is in its file, but first's is not: its file must not claim the newest token
    assert second.catch_up_sparse() == 1
    assert words_found(second, "sengehest") == {"lp-1"} and words_found(second, "forbytning") == {"lp-2"}


def test_search_looks_for_writes_from_elsewhere_by_itself(machines, monkeypatch) -> None:
    first, second = machines
    monkeypatch.setattr("vectorstore.index._SPARSE_CHECK_SECONDS", 0.0)
    first.upsert([point("lp-1", "c-1", "Sengehesten manglede. Patienten faldt ud af sengen om natten.")])
    second.search("sengehest", k=3)
    assert words_found(second, "sengehest") == {"lp-1"}


def test_a_word_file_from_before_fingerprints_gets_the_column_and_its_rows_count_as_unknown(index: LearningIndex,
                                                                                              tmp_path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.executescript(
            "CREATE TABLE points (id TEXT PRIMARY KEY, case_id TEXT NOT NULL, terms TEXT NOT NULL,"
            " metadata TEXT NOT NULL);"
            "CREATE TABLE state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
            "INSERT INTO state VALUES ('generation', 3);"
            "INSERT INTO points VALUES ('lp-1', 'c-1', 'sengehest', '{}');")
    connection.close()
    sparse = SparseIndex(path, index.sparse.analyser)
    assert sparse.sources() == {"lp-1": None} and sparse.synced_to() is None
