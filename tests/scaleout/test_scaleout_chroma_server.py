"""The learning index on a real Chroma server (``chroma run``) through ``DEBRIEF_CHROMA_URL``: same code, a URL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from assistant.auth import Actor, Role
from assistant.indexing import check_index
from assistant.intake import submit_notes
from assistant.jobs import Components, pipeline, run_job
from assistant.models import CaseContext, Sector
from assistant.review import approve
from assistant.settings import Settings
from assistant.store import open_database
from assistant.store.tables import LearningPoint
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft
from tests.support.servers import ROOT, chroma_server
from vectorstore.index import LearningIndex
from vectorstore.schema import IndexedPoint, SearchFilters

AGENT = Actor(user_id="a1", name="agent-anne", role=Role.learning_agent)


def point(point_id: str, case_id: str, title: str, text: str, sector: str = "hospital") -> IndexedPoint:
    return IndexedPoint(learning_point_id=point_id, case_id=case_id, text=f"{title}\n{text}", title=title,
                        sector=sector, category="medicin")


POINTS = [
    point("lp-insulin", "case-1", "Insulin givet to gange ved vagtskifte",
          "Patienten fik dobbelt dosis insulin, fordi vagtskiftet ikke nævnte den første dosis."),
    point("lp-fald", "case-2", "Fald om natten på badeværelset",
          "En ældre borger faldt om natten; natlys og alarm inden for rækkevidde blev indført.", "municipality"),
    point("lp-pumpe", "case-2", "Pumpealarm overhørt",
          "Infusionspumpens alarm blev overhørt på en travl stue."),
]


@pytest.fixture(scope="module")
def chroma_url():
    with chroma_server() as url:
        yield url


@pytest.fixture
def server_settings(chroma_url, tmp_path) -> Settings:
    # A collection per test keeps the tests apart on the shared server.
    return Settings(data_dir=tmp_path / "data", chroma_url=chroma_url, cpu_threads=2,
                    chroma_collection=f"lp_{tmp_path.name[-20:].replace('-', '_')}")


def test_points_are_indexed_searched_and_deleted_on_the_chroma_server(server_settings):
    index = LearningIndex(server_settings)
    index.upsert(POINTS)
    assert not server_settings.chroma_path.exists()  # nothing went to a local folder

    other_client = LearningIndex(server_settings)  # e.g. the app while a worker writes
    assert other_client.ids() == {"lp-insulin", "lp-fald", "lp-pumpe"}
    hits = other_client.search("dobbelt dosis insulin ved vagtskiftet", k=3)
    assert hits[0].learning_point_id == "lp-insulin"
    only_municipality = other_client.search("insulin", SearchFilters(sectors={"municipality"}), k=3)
    assert [h.learning_point_id for h in only_municipality] == ["lp-fald"]

    index.delete(["lp-insulin", "not-there"])
    assert "lp-insulin" not in {h.learning_point_id for h in other_client.search("insulin vagtskifte", k=3)}
    index.delete_case("case-2")
    assert other_client.count() == 0


def test_a_second_app_machine_with_its_own_folder_finds_the_first_machines_points_by_their_words(server_settings,
                                                                                                    tmp_path):
    first = LearningIndex(server_settings)
    second = LearningIndex(server_settings.model_copy(update={"data_dir": tmp_path / "machine-2"}))
    assert first.sparse.path != second.sparse.path
    first.upsert(POINTS)
    assert second.catch_up_sparse() == 3
    assert {pid for pid, _ in second.sparse.search("pumpealarm overhørt")} == {"lp-pumpe"}
    first.delete_case("case-2")
    assert second.catch_up_sparse() == 2 and second.sparse.ids() == {"lp-insulin"}


def test_debrief_index_rebuild_restores_the_server_index_from_the_record_store(server_settings, monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    db = open_database(server_settings)
    components = Components(server_settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(),
                            chat_=FakeChat())
    submission = submit_notes(db, server_settings, "Jens fik dobbelt dosis insulin ved vagtskiftet.",
                              CaseContext(sector=Sector.hospital))
    run_job(db, components, submission.job_id)
    with db.session() as session:
        point_id = session.scalar(select(LearningPoint.id))
    index = LearningIndex(server_settings)
    approve(db, index, AGENT, point_id)
    # The server drifts from the store: the approved point lost, a stranger added.
    index.delete([point_id])
    index.upsert([POINTS[0]])
    drift = check_index(db, index)
    assert (drift.missing, drift.orphaned) == ([point_id], ["lp-insulin"])

    env = {**os.environ, "PYTHONPATH": str(ROOT), "DEBRIEF_DATA_DIR": str(server_settings.data_dir),
           "DEBRIEF_CHROMA_URL": server_settings.chroma_url,
           "DEBRIEF_CHROMA_COLLECTION": server_settings.chroma_collection}
    done = subprocess.run([sys.executable, "-m", "ui.cli", "index", "rebuild"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert LearningIndex(server_settings).ids() == {point_id}
    assert check_index(db, index).consistent
