"""The whole web app on a loopback port for the hardening tests, with small fakes for speech and drafting and
a chat model that cites what it was given (orchestration under load and roles; real models have their own tests).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gradio_client import Client

from assistant.auth import Role, add_user
from assistant.jobs import Components, Runtime, pipeline
from assistant.settings import Settings
from tests.support.fakes import FakePseudonymiser, FakeTranscriber, fake_draft
from tests.support.servers import app_in_thread

PASSWORD = "korrekt-hest-batteri"
USERS = {"rita": Role.reporter, "rolf": Role.reporter, "lars": Role.learning_agent, "sofie": Role.staff,
         "frida": Role.facilitator, "adam": Role.admin}


class CitingChat:
    """Answers every question by citing the first point it was given, in pieces, like a streaming model."""

    model_id = "citing-fake"

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.calls = 0
        self._lock = threading.Lock()

    def stream(self, messages, max_tokens):
        with self._lock:
            self.calls += 1
        first = re.search(r"^\[1\] \([^)]*\) (.+)$", messages[-1].content, re.M)
        answer = f"Andre har lært dette: {first.group(1)[:80] if first else 'intet'} [1]. "
        for start in range(0, len(answer), 12):
            if self.delay:
                time.sleep(self.delay)
            yield answer[start:start + 12]


@dataclass
class RunningApp:
    url: str
    runtime: Runtime
    context: object  # ui.context.AppContext

    def client(self, user: str | None = None) -> Client:
        """A logged-in client for ``user``; without one, an anonymous client of the open part."""
        if user is None:
            return Client(self.url + "/public/", verbose=False)
        return Client(self.url + "/", auth=(user, PASSWORD), verbose=False)


@contextmanager
def serve_app(data_dir: Path, chat=None, **settings_changes) -> Iterator[RunningApp]:
    """Start the app (both parts, the worker) with the fakes; stop it afterwards. Drafting is the fake one."""
    from ui.app import create_app

    original_draft = pipeline.draft_case
    pipeline.draft_case = fake_draft
    settings = Settings(data_dir=data_dir, cpu_threads=2, **settings_changes)
    components = Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(),
                            chat_=chat or CitingChat())
    runtime = Runtime.create(settings, components)
    for name, role in USERS.items():
        add_user(runtime.db, name, role, PASSWORD)
    runtime.start_worker()
    app, context = create_app(runtime)
    try:
        with app_in_thread(app, "debrief-hardening-app") as url:
            yield RunningApp(url=url, runtime=runtime, context=context)
    finally:
        runtime.stop()
        pipeline.draft_case = original_draft


def case_id_in(db, message: str) -> str:
    """The id of the case a hand-in message names by its reference ("Modtaget som sag UTH-2026-0001.")."""
    from assistant.cases import find_case

    reference = re.search(r"\b(?:sag|case) ([A-ZÆØÅ]+-\d{4}-\d{4,})", message, re.IGNORECASE).group(1)
    with db.session() as session:
        return find_case(session, reference).id


def hand_in_notes(app: RunningApp, client: Client, notes: str, sector: str = "hospital") -> dict:
    """Typed notes through /submit, then /watch until the draft is shown."""
    message, receipt = client.predict("da", None, notes, sector, "Akutmodtagelsen", "2026-11-02", "Medicinering",
                                      False, api_name="/submit")
    progress, draft = client.predict("da", api_name="/watch")
    case_id = case_id_in(app.runtime.db, message)
    reference = re.search(r"sag (\S+?)\.", message).group(1)
    return {"case_id": case_id, "reference": reference, "receipt": receipt, "progress": progress, "draft": draft,
            "message": message}
