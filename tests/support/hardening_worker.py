"""A separate Debrief process for the hardening tests' crash and restart cases (fake speech and draft models).

Usage:
  python -m tests.support.hardening_worker seed DATA_DIR
      users, one case approved as public with feedback released, one awaiting review, one whose approval will be
      interrupted; prints one JSON line with their ids and receipt codes.
  python -m tests.support.hardening_worker hang-in-approval DATA_DIR POINT_ID
      approves POINT_ID but stops for good after writing the index and before the store commits (to be killed);
      prints "index-written" when it gets there.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from sqlalchemy import select

from assistant.auth import Actor, Role, add_user
from assistant.intake import submit_notes
from assistant.jobs import Components, pipeline, run_job
from assistant.models import CaseContext, Sector
from assistant.review import approve, release_feedback
from assistant.settings import Settings
from assistant.store import open_database
from assistant.store.tables import LearningPoint
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft
from vectorstore.index import LearningIndex

PASSWORD = "korrekt-hest-batteri"
USERS = {"rita": Role.reporter, "lars": Role.learning_agent, "sofie": Role.staff}
NOTES = {
    "public": "Sondemad blev givet i den forkerte sonde; kollegaen stoppede det i tide.\n\nVi tjekker nu placeringen.",
    "waiting": "Pumpen alarmerede, men alarmen blev overhørt i en travl vagt.\n\nDen blev opdaget ved stuegang.",
    "interrupted": "Jens faldt om natten på badeværelset.\n\nNatlyset var slukket, alarmen uden for rækkevidde.",
}


def _seed(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, cpu_threads=2)
    db = open_database(settings)
    index = LearningIndex(settings)
    pipeline.draft_case = fake_draft
    components = Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(),
                            chat_=FakeChat())
    users = {name: add_user(db, name, role, PASSWORD) for name, role in USERS.items()}
    agent = users["lars"]
    out: dict[str, dict] = {}
    for key, notes in NOTES.items():
        submission = submit_notes(db, settings, notes, CaseContext(sector=Sector.hospital, unit="Akutmodtagelsen"),
                                  reporter_id=users["rita"].user_id)
        run_job(db, components, submission.job_id)
        with db.session() as session:
            point_id = session.scalar(select(LearningPoint.id).where(LearningPoint.case_id == submission.case_id))
        out[key] = {"case_id": submission.case_id, "reference": submission.reference, "point_id": point_id,
                    "receipt": submission.receipt_code}
    approve(db, index, agent, out["public"]["point_id"], visibility="public", note="Godt fanget")
    release_feedback(db, agent, out["public"]["case_id"], "Tak for jeres debriefing – læringen deles nu.")
    print(json.dumps(out), flush=True)


def _hang_in_approval(data_dir: Path, point_id: str) -> None:
    settings = Settings(data_dir=data_dir, cpu_threads=2)
    db = open_database(settings)
    index = LearningIndex(settings)
    original = index.upsert

    def upsert_then_stall(points):
        original(points)
        print("index-written", flush=True)
        time.sleep(600)  # killed here: the index has the point, the store never committed the approval

    index.upsert = upsert_then_stall
    approve(db, index, Actor(user_id="x", name="lars", role=Role.learning_agent), point_id)


if __name__ == "__main__":
    command, folder = sys.argv[1], Path(sys.argv[2])
    if command == "seed":
        _seed(folder)
    elif command == "hang-in-approval":
        _hang_in_approval(folder, sys.argv[3])
    else:
        raise SystemExit(f"unknown command {command!r}")
