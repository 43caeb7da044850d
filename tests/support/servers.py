"""Real servers for the scale-out tests, started on free loopback ports and stopped afterwards.

PostgreSQL (``initdb`` + ``pg_ctl`` on a temporary data folder), a Chroma server (``chroma run``) and the
llama.cpp OpenAI-compatible server. A missing binary fails the test with the command that installs it
(``scripts/ci-services.sh``); nothing is skipped.

Also a worker process with fake models (``python -m tests.support.servers worker DATA_DIR STOP_FILE``) for the
several-workers tests: it pulls jobs from the database named by ``DEBRIEF_DATABASE_URL`` until STOP_FILE exists.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.speech.local_server import free_port

ROOT = Path(__file__).resolve().parents[2]
INSTALL_HINT = "run `sudo scripts/ci-services.sh` (installs PostgreSQL with apt-get and the Python extras)"


def wait_for_http(url: str, process: subprocess.Popen, timeout: float, log: Path | None = None) -> None:
    """Poll ``url`` until it answers 200; fail early with the server's log if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s:\n{_tail(log)}")


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    return log.read_text(errors="replace")[-3000:]


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate a server we started, killing it if it does not go."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


# -- PostgreSQL --------------------------------------------------------------------------------------------


def postgres_bin() -> Path:
    """The folder with ``initdb`` and ``pg_ctl`` (PATH first, then Debian's /usr/lib/postgresql/*/bin)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    pytest.fail(f"PostgreSQL (pg_ctl, initdb) is not installed: {INSTALL_HINT}")


@dataclass
class PostgresServer:
    port: int
    data_dir: Path
    bin_dir: Path
    as_user: list[str]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://debrief@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database on this server; its URL."""
        from sqlalchemy import create_engine, text

        name = f"t_{uuid.uuid4().hex[:12]}"
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)


def _run_as(prefix: list[str], *args: str) -> None:
    done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args[:2])} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL cluster on 127.0.0.1 (trust auth, fsync off: test data only)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail(f"the PostgreSQL driver is missing: pip install 'psycopg[binary]==3.3.9' ({INSTALL_HINT})")
    bin_dir = postgres_bin()
    # PostgreSQL refuses to run as root: then the cluster belongs to the `postgres` system user.
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="debrief-pg-"))
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.fail("running as root needs `runuser` (util-linux) to start PostgreSQL as user postgres")
        as_user = [runuser, "-u", "postgres", "--"]
        shutil.chown(base, "postgres", "postgres")
    data_dir = base / "data"
    port = free_port()
    log = base / "server.log"
    try:
        _run_as(as_user, str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "debrief", "--auth=trust",
                "-E", "UTF8", "--no-locale", "--no-sync")
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        _run_as(as_user, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-l", str(log), "-o", options, "-w", "start")
        yield PostgresServer(port=port, data_dir=data_dir, bin_dir=bin_dir, as_user=as_user)
    finally:
        if (data_dir / "postmaster.pid").exists():
            subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


# -- Chroma server -----------------------------------------------------------------------------------------


def chroma_cli() -> str:
    """The ``chroma`` command that ships with the chromadb package (next to this Python first)."""
    beside = Path(sys.executable).parent / "chroma"
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        pytest.fail("the `chroma` command is missing: pip install chromadb==1.5.9")
    return found


@contextmanager
def chroma_server() -> Iterator[str]:
    """``chroma run`` on a temporary folder and a free port; yields its URL."""
    base = Path(tempfile.mkdtemp(prefix="debrief-chroma-"))
    port = free_port()
    log = base / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [chroma_cli(), "run", "--path", str(base / "data"), "--port", str(port), "--host", "127.0.0.1"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", process, timeout=60, log=log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        shutil.rmtree(base, ignore_errors=True)


# -- OpenAI-compatible LLM server (llama.cpp) ----------------------------------------------------------------


@contextmanager
def llama_cpp_server(model_path: Path, alias: str, threads: int = 2, n_ctx: int = 4096) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server for ``model_path``; yields the base URL (…/v1)."""
    try:
        import llama_cpp.server.app  # noqa: F401
    except ImportError as error:
        pytest.fail(f"llama-cpp-python's server extras are missing ({error}): {INSTALL_HINT}")
    base = Path(tempfile.mkdtemp(prefix="debrief-llm-"))
    port = free_port()
    log = base / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", alias,
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(threads),
             "--verbose", "False"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/v1/models", process, timeout=120, log=log)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(process)
        shutil.rmtree(base, ignore_errors=True)


# -- worker processes with fake models -----------------------------------------------------------------------


@contextmanager
def app_in_thread(app, name: str = "debrief-test-app") -> Iterator[str]:
    """Serve an ASGI app on a free loopback port in this process; yields its URL and stops it afterwards.

    The same helper ``debrief bench`` serves its transcription server with (``assistant.speech.local_server``).
    """
    from assistant.speech.local_server import serve_in_thread

    with serve_in_thread(app, name) as url:
        yield url


def start_fake_worker(data_dir: Path, database_url: str, stop_file: Path, delay: float = 0.5) -> subprocess.Popen:
    """A separate worker process (fake models, like ``debrief worker``) on the given database."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DEBRIEF_DATABASE_URL": database_url}
    return subprocess.Popen([sys.executable, "-m", "tests.support.servers", "worker", str(data_dir), str(stop_file),
                             str(delay)], cwd=ROOT, env=env)


def _fake_worker_main(data_dir: Path, stop_file: Path, delay: float) -> None:
    from assistant.jobs import Components, Worker, pipeline
    from assistant.settings import Settings
    from assistant.store import open_database
    from tests.support.fakes import FakeChat, FakePseudonymiser, FakeTranscriber, fake_draft

    def signed_draft(*args, **kwargs):
        # Each draft names the process that made it, so tests can see who did which job.
        return fake_draft(*args, **kwargs).model_copy(update={"model_id": f"fake-llm:{os.getpid()}"})

    pipeline.draft_case = signed_draft
    settings = Settings(data_dir=data_dir)
    components = Components(settings, transcriber_=FakeTranscriber(), pseudonymiser_=FakePseudonymiser(),
                            chat_=FakeChat(delay=delay))
    worker = Worker(open_database(settings, upgrade=False), components)
    (stop_file.parent / f"ready-{os.getpid()}").touch()
    while not stop_file.exists():
        if worker.run_pending() == 0:
            time.sleep(0.1)


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    _fake_worker_main(Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4]))
