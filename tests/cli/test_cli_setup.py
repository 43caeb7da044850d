"""The setup commands the README's first command runs work on a machine that has never run Debrief."""

from __future__ import annotations

import os
import subprocess
import sys


def test_db_upgrade_creates_the_data_folder_on_a_fresh_machine(tmp_path):
    data_dir = tmp_path / "never" / "used" / "before"
    env = {**os.environ, "DEBRIEF_DATA_DIR": str(data_dir)}
    env.pop("DEBRIEF_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", "from assistant.cli import app; app()", "db", "upgrade"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (data_dir / "debrief.db").stat().st_size > 0
