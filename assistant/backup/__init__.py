"""Backup and restore: one consistent archive of the record store and the kept recordings, with a manifest;
restored only into an empty data folder, then checked (counts, audit chain) and the learning index rebuilt."""

from __future__ import annotations

from assistant.backup.archive import RestoreReport, backup, read_manifest, restore
from assistant.backup.manifest import ArchivedFile, BackupManifest

__all__ = ["ArchivedFile", "BackupManifest", "RestoreReport", "backup", "read_manifest", "restore"]
