"""A worker process for the crash tests: runs one job with a slow fake stage, to be killed mid-way.

Usage: python -m tests.support.crash_worker DATA_DIR JOB_ID (transcription|drafting)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from assistant.jobs import Components, pipeline, run_job
from assistant.settings import Settings
from assistant.store import open_database
from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft


class SlowTranscriber(FakeTranscriber):
    def transcribe(self, audio, progress=None):
        if progress:
            progress(0.1)
        time.sleep(600)
        return super().transcribe(audio, progress)


def main() -> None:
    data_dir, job_id, slow_stage = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    settings = Settings(data_dir=data_dir)
    pipeline.draft_case = fake_draft
    transcriber = SlowTranscriber() if slow_stage == "transcription" else FakeTranscriber()
    chat = FakeChat(delay=600 if slow_stage == "drafting" else 0)
    components = Components(settings, transcriber_=transcriber, pseudonymiser_=FakePseudonymiser(), chat_=chat)
    run_job(open_database(settings), components, job_id, lease_seconds=2)


if __name__ == "__main__":
    main()
