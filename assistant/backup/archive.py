"""``debrief backup`` and ``debrief restore``: the record store, the kept recordings and a manifest in one tar
archive; the learning index is derived, so a restore rebuilds it from the restored store.

A backup runs beside a working app: the store is copied in one snapshot, and the recordings it lists are taken
from hard links made just before, so a recording deleted meanwhile (its retention ended) is still archived.
A restore goes only into an empty data folder (and empty store and index), checks every checksum before it
writes anything there, and afterwards checks counts, the audit chain and the rebuilt index against the manifest.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from importlib import metadata
from pathlib import Path

from alembic.script import ScriptDirectory
from pydantic import BaseModel, ValidationError
from sqlalchemy import update

from assistant.backup.manifest import (
    AUDIO_PREFIX,
    FORMAT_VERSION,
    MANIFEST_NAME,
    ArchivedFile,
    BackupManifest,
    StoreState,
    file_checksum,
)
from assistant.backup.snapshot import load_store, read_state, snapshot_store, store_is_empty
from assistant.errors import ArchiveDamaged, BackupRefused
from assistant.indexing import rebuild_index
from assistant.models import JobStatus
from assistant.settings import Settings
from assistant.store import Database, open_database
from assistant.store.database import MIGRATIONS
from assistant.store.tables import AudioFile, Job, utcnow

# What a damaged tar or gzip stream raises while it is read.
_UNREADABLE = (OSError, tarfile.TarError, EOFError, zlib.error)


class RestoreReport(BaseModel):
    """What a restore put back, checked against the manifest."""

    counts: dict[str, int]
    audit_events: int
    indexed_points: int
    recordings: int
    requeued_jobs: int  # jobs that were running when the backup was made; they resume at their stored stage


def backup(settings: Settings, archive: Path, db: Database | None = None) -> BackupManifest:
    """Write one consistent archive of the store and the kept recordings to ``archive`` (.tar, or .tar.gz)."""
    archive = Path(archive)
    if archive.exists():
        raise BackupRefused("backup.archive_exists", path=str(archive))
    db = db or open_database(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Inside the data folder, so recordings can be hard-linked (same file system) rather than copied.
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=settings.data_dir) as work:
        work_dir = Path(work)
        linked = _link_recordings(settings.audio_dir, work_dir / "audio")
        snapshot = snapshot_store(db, work_dir)
        members: list[tuple[str, Path]] = [(f"store/{snapshot.path.name}", snapshot.path)]
        gone = []
        for recording in snapshot.recordings:
            source = linked.get(recording.stored_name) or settings.audio_dir / recording.stored_name
            if source.exists():
                members.append((AUDIO_PREFIX + recording.stored_name, source))
            else:
                gone.append(recording.stored_name)
        manifest = BackupManifest(
            **snapshot.state.model_dump(),
            created=dt.datetime.now(dt.UTC),
            debrief_version=_debrief_version(),
            files=[ArchivedFile(name=name, sha256=file_checksum(path), size_bytes=path.stat().st_size)
                   for name, path in members],
            audio_gone=gone,
        )
        manifest_path = work_dir / MANIFEST_NAME
        manifest_path.write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        _write_archive(archive, [(MANIFEST_NAME, manifest_path), *members])
    return manifest


def restore(settings: Settings, archive: Path) -> RestoreReport:
    """Restore ``archive`` into the empty data folder (and store, and index) that ``settings`` name."""
    from vectorstore.index import LearningIndex

    url = settings.resolved_database_url
    index = LearningIndex(settings.index_options()) if settings.chroma_url else None
    _refuse_unless_empty(settings, url, index)
    archive = Path(archive)
    if not archive.is_file():
        raise ArchiveDamaged("backup.not_found", path=str(archive))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=settings.data_dir))
    try:
        manifest = _unpack_checked(archive, staging)
        load_store(staging / manifest.store_member, url)
        db = open_database(settings)  # migrates a backup made by an older Debrief
        requeued = _settle(db, manifest)
        recordings = _place_recordings(staging, settings.audio_dir)
        state = _state_of(db)
        if state.counts != manifest.counts or state.audit_events != manifest.audit_events:
            raise ArchiveDamaged("backup.counts_differ", expected=_brief(manifest), found=_brief(state))
        if state.audit_chain != manifest.audit_chain:
            raise ArchiveDamaged("backup.audit_chain_broken")
        index = index or LearningIndex(settings.index_options())
        diff = rebuild_index(db, index)
        if not diff.consistent or index.count() != manifest.approved_points:
            raise ArchiveDamaged("backup.index_differs", expected=manifest.approved_points, found=index.count())
    except BaseException:
        _undo(settings, url, staging)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return RestoreReport(counts=state.counts, audit_events=state.audit_events, indexed_points=index.count(),
                         recordings=recordings, requeued_jobs=requeued)


def read_manifest(archive: Path) -> BackupManifest:
    """The manifest of ``archive``, checked to be one this Debrief can restore (the members are not read)."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            return _manifest_of(tar)
    except _UNREADABLE as error:
        raise ArchiveDamaged("backup.unreadable", reason=type(error).__name__) from None


# -- writing -----------------------------------------------------------------------------------------------------


def _link_recordings(audio_dir: Path, target: Path) -> dict[str, Path]:
    """Hard links to every recording there is now (a copy where links are impossible); name → link."""
    linked: dict[str, Path] = {}
    if not audio_dir.is_dir():
        return linked
    target.mkdir(parents=True)
    for path in audio_dir.iterdir():
        if not path.is_file() or path.suffix == ".partial":
            continue
        try:
            os.link(path, target / path.name)
        except FileNotFoundError:
            continue  # deleted between listing and linking
        except OSError:
            shutil.copy2(path, target / path.name)
        linked[path.name] = target / path.name
    return linked


def _write_archive(archive: Path, members: list[tuple[str, Path]]) -> None:
    """Write the tar under a temporary name and rename it, so a half-written archive never looks finished."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    mode = "w:gz" if archive.name.endswith((".gz", ".tgz")) else "w"
    try:
        with tarfile.open(partial, mode) as tar:
            for name, path in members:
                tar.add(path, arcname=name, recursive=False)
        os.replace(partial, archive)
    finally:
        partial.unlink(missing_ok=True)


def _debrief_version() -> str:
    try:
        return metadata.version("debrief")
    except metadata.PackageNotFoundError:
        return "0"


# -- reading and checking ------------------------------------------------------------------------------------


def _manifest_of(tar: tarfile.TarFile) -> BackupManifest:
    try:
        member = tar.getmember(MANIFEST_NAME)
        if not member.isfile():
            raise KeyError(MANIFEST_NAME)
        raw = tar.extractfile(member).read()
        manifest = BackupManifest.model_validate_json(raw)
    except KeyError:
        raise ArchiveDamaged("backup.no_manifest") from None
    except ValidationError as error:
        if _version_of(raw) > FORMAT_VERSION:
            raise BackupRefused("backup.newer_format", version=_version_of(raw)) from None
        raise ArchiveDamaged("backup.bad_manifest", reason=error.errors()[0]["msg"]) from None
    if manifest.version > FORMAT_VERSION:
        raise BackupRefused("backup.newer_format", version=manifest.version)
    if manifest.schema_revision is not None:
        try:
            known = ScriptDirectory(str(MIGRATIONS)).get_revision(manifest.schema_revision)
        except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown revision
            known = None
        if known is None:
            raise BackupRefused("backup.newer_schema", revision=manifest.schema_revision)
    if not any(f.name == manifest.store_member for f in manifest.files):
        raise ArchiveDamaged("backup.bad_manifest", reason=manifest.store_member)
    return manifest


def _version_of(raw: bytes) -> int:
    try:
        version = json.loads(raw).get("version", 0)
        return version if isinstance(version, int) else 0
    except (ValueError, AttributeError):
        return 0


def _unpack_checked(archive: Path, staging: Path) -> BackupManifest:
    """Extract the members the manifest names into ``staging``, each checked against its checksum and size."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            manifest = _manifest_of(tar)
            present = {m.name: m for m in tar.getmembers()}
            for expected in manifest.files:
                member = present.get(expected.name)
                if member is None or not member.isfile():
                    raise ArchiveDamaged("backup.member_missing", name=expected.name)
                target = staging / expected.name
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as source, target.open("wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
                if target.stat().st_size != expected.size_bytes or file_checksum(target) != expected.sha256:
                    raise ArchiveDamaged("backup.checksum_mismatch", name=expected.name)
            return manifest
    except _UNREADABLE as error:
        raise ArchiveDamaged("backup.unreadable", reason=type(error).__name__) from None


def _refuse_unless_empty(settings: Settings, url: str, index) -> None:
    data_dir = settings.data_dir
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupRefused("backup.target_not_empty", path=str(data_dir))
    if not store_is_empty(url):
        raise BackupRefused("backup.store_not_empty")
    if index is not None and index.count():
        raise BackupRefused("backup.index_not_empty", collection=settings.chroma_collection)


def _settle(db: Database, manifest: BackupManifest) -> int:
    """Make the restored store consistent as a new installation: jobs that were running belong to workers of the
    old one, so they are queued again (each resumes at its committed stage); recordings that went while the
    backup ran are marked gone, as their purge would have done."""
    with db.session() as session:
        requeued = session.execute(
            update(Job).where(Job.status == JobStatus.running.value)
            .values(status=JobStatus.queued.value, lease_owner=None, lease_expires_at=None)
        ).rowcount
        if manifest.audio_gone:
            session.execute(update(AudioFile).where(AudioFile.stored_name.in_(manifest.audio_gone))
                            .values(deleted_at=utcnow()))
    return requeued


def _place_recordings(staging: Path, audio_dir: Path) -> int:
    source = staging / AUDIO_PREFIX.rstrip("/")
    if not source.is_dir():
        return 0
    audio_dir.mkdir(parents=True, exist_ok=True)
    placed = 0
    for path in source.iterdir():
        shutil.move(path, audio_dir / path.name)
        placed += 1
    return placed


def _state_of(db: Database) -> StoreState:
    with db.engine.connect() as connection:
        return read_state(connection, "sqlite" if db.is_sqlite else "postgresql")[0]


def _brief(state: StoreState) -> str:
    return ", ".join(f"{table} {count}" for table, count in sorted(state.counts.items())) + \
        f", audit_events {state.audit_events}"


def _undo(settings: Settings, url: str, staging: Path) -> None:
    """After a failed restore, leave the data folder as empty as it was (a PostgreSQL store is left to its
    owner, since pg_restore's single transaction already rolled back a failed load)."""
    from assistant.store import database as store_database

    opened = store_database._open.pop(url, None)
    if opened is not None:
        opened.dispose()
    shutil.rmtree(staging, ignore_errors=True)
    if settings.data_dir.is_dir():
        for path in settings.data_dir.iterdir():
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
