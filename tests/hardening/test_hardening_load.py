"""Hardening, load (issue 6, cases 17-18): concurrent uploads and chat questions against the running app on
loopback, and the job worker draining a queue in order, each job once.

The app is real (Gradio, FastAPI, the worker, SQLite, Chroma with the bundled embeddings); speech, drafting and
the chat model are fakes, so this measures the app's own orchestration under concurrency. The same load with the
real models: ``debrief bench --only load`` (see docs/hardening.md).
"""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from sqlalchemy import func, select

from assistant.auth import Actor, Role
from assistant.bench import percentile
from assistant.intake import submit_notes, submit_recording
from assistant.jobs import Components, Worker, pipeline
from assistant.models import CaseContext
from assistant.review import approve
from assistant.store import open_database
from assistant.store.tables import Case, Draft, Job, LearningPoint, Transcript
from tests.support import audio_factory
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft
from tests.support.hardening_app import CitingChat, hand_in_notes, serve_app

UPLOADS = 5
QUESTIONS = 20
DEADLINE_SECONDS = 120  # the whole load must finish within this; a hang fails the test instead of stalling it


@pytest.fixture(scope="module")
def running_app(tmp_path_factory):
    chat = CitingChat(delay=0.01)
    with serve_app(tmp_path_factory.mktemp("load"), chat) as app:
        yield app


def test_five_uploads_and_twenty_questions_at_once_all_complete_and_none_is_lost(running_app, tmp_path,
                                                                                 artifacts_dir):
    # Something to ask about: two approved points about insulin.
    agent = Actor(user_id="lars", name="lars", role=Role.learning_agent)
    reporter = running_app.client("rita")
    for notes in ("Jens fik dobbelt dosis insulin ved vagtskiftet.\n\nDobbeltkontrollen fangede det.",
                  "Insulin blev forvekslet ved overleveringen.\n\nVi indførte fast tjek af insulinpen."):
        shown = hand_in_notes(running_app, reporter, notes)
        with running_app.runtime.db.session() as session:
            point = session.scalar(select(LearningPoint.id).where(LearningPoint.case_id == shown["case_id"]))
        approve(running_app.runtime.db, running_app.runtime.index, agent, point, visibility="staff")

    recordings = [audio_factory.tone(tmp_path / f"debrief-{n}.wav", seconds=2.0, frequency=220.0 + 40 * n)
                  for n in range(UPLOADS)]

    # Each person's session is opened first (gradio_client fetches the whole API description per client, which
    # 25 at once on two cores took past httpx's timeout); then all of them work at the same time.
    upload_clients = [running_app.client("rita") for _ in range(UPLOADS)]
    ask_clients = [running_app.client("sofie") for _ in range(QUESTIONS)]

    def upload(path: Path, client: Client) -> dict:
        started = time.perf_counter()
        message, receipt = client.predict("da", handle_file(str(path)), "", "hospital", "Medicinsk afdeling", "",
                                          "", False, api_name="/submit")
        progress, draft = client.predict("da", api_name="/watch")
        return {"seconds": time.perf_counter() - started, "message": message, "receipt": receipt,
                "progress": progress, "draft": draft}

    def ask(n: int, client: Client) -> dict:
        started = time.perf_counter()
        history, cited = client.predict("da", f"Hvad har vi lært om insulin ved vagtskifte? ({n})", [], [], "", "",
                                        "", "", "all", api_name="/ask")[:2]
        return {"seconds": time.perf_counter() - started, "answer": history[-1]["content"], "cited": cited}

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=UPLOADS + QUESTIONS) as pool:
        uploads = [pool.submit(upload, path, client) for path, client in zip(recordings, upload_clients)]
        questions = [pool.submit(ask, n, client) for n, client in enumerate(ask_clients)]
        uploaded = [f.result(timeout=DEADLINE_SECONDS) for f in uploads]
        answered = [f.result(timeout=DEADLINE_SECONDS) for f in questions]
    wall = time.perf_counter() - started

    # Every upload became its own case, with a receipt and a finished draft; nothing was lost or merged.
    assert all(u["receipt"] and "Færdig" in u["progress"] and "Dobbeltkontrol" in u["draft"] for u in uploaded)
    with running_app.runtime.db.session() as session:
        audio_cases = session.scalars(select(Case).where(Case.source_kind == "audio")).all()
        assert len(audio_cases) == UPLOADS and all(c.status == "awaiting_review" for c in audio_cases)
        assert session.scalar(select(func.count()).select_from(Draft)) == UPLOADS + 2
    # Every question got a cited answer, each from its own session.
    for reply in answered:
        text = reply["answer"] if isinstance(reply["answer"], str) else "".join(
            part.get("text", "") for part in reply["answer"])
        assert re.search(r"\[UTH-\d{4}-\d{4}/\d+\]", text), text  # cites a point by its readable reference
    upload_times = [u["seconds"] for u in uploaded]
    answer_times = [a["seconds"] for a in answered]
    report = {
        "what": "5 uploads (2 s wav, fake transcriber and drafting) and 20 chat questions (real retrieval, fake "
                "streaming chat) at once against the running app on loopback; seconds per request incl. login",
        "wall_seconds": round(wall, 2),
        "upload_p50_s": round(percentile(upload_times, 50), 2), "upload_p95_s": round(percentile(upload_times, 95), 2),
        "ask_p50_s": round(percentile(answer_times, 50), 2), "ask_p95_s": round(percentile(answer_times, 95), 2),
        "chat_calls": running_app.runtime.components.chat_.calls,
    }
    (artifacts_dir / "hardening-load.json").write_text(json.dumps(report, indent=2))
    assert report["chat_calls"] >= QUESTIONS
    assert wall < DEADLINE_SECONDS


# -- 18. the job worker drains a queue in order, each job once ---------------------------------------------------


@pytest.fixture
def components(settings, monkeypatch):
    monkeypatch.setattr(pipeline, "draft_case", fake_draft)
    return Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(), chat_=FakeChat())


def test_the_background_worker_drains_twenty_mixed_debriefs_in_order_without_duplicates(settings, components,
                                                                                         tmp_path):
    db = open_database(settings)
    worker = Worker(db, components, poll_seconds=0.2).start()
    try:
        submissions = []
        for n in range(20):  # handed in while the worker is already running, as in the app
            if n % 4 == 0:
                path = audio_factory.tone(tmp_path / f"r{n}.wav", seconds=2.0, frequency=200.0 + 10 * n)
                submissions.append(submit_recording(db, settings, path, CaseContext()))
            else:
                submissions.append(submit_notes(db, settings, f"Kort debriefing nummer {n} om et fald.",
                                                CaseContext()))
            worker.wake()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with db.session() as session:
                if session.scalar(select(func.count()).select_from(Job).where(Job.status == "done")) == 20:
                    break
            time.sleep(0.2)
    finally:
        worker.stop(timeout=10)
    with db.session() as session:
        jobs = session.scalars(select(Job).order_by(Job.finished_at)).all()
        assert [j.id for j in jobs] == [s.job_id for s in submissions]  # oldest first
        assert all(j.status == "done" and j.attempts == 1 for j in jobs)  # each ran once
        assert session.scalar(select(func.count()).select_from(Transcript)) == 20
        assert session.scalar(select(func.count()).select_from(Draft)) == 20


def test_two_workers_on_one_queue_never_run_a_job_twice(settings, components):
    db = open_database(settings)
    submissions = [submit_notes(db, settings, f"Debriefing {n}: alarmen blev overhørt.", CaseContext())
                   for n in range(20)]
    workers = [Worker(db, components) for _ in range(2)]
    done = [0, 0]

    def drain(n: int) -> None:
        done[n] = workers[n].run_pending()

    threads = [threading.Thread(target=drain, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(done) == 20
    with db.session() as session:
        assert {j.id for j in session.scalars(select(Job))} == {s.job_id for s in submissions}
        assert all(j.status == "done" and j.attempts == 1 for j in session.scalars(select(Job)))
        assert session.scalar(select(func.count()).select_from(Draft)) == 20
