"""`debrief backup` and `debrief restore`: one consistent archive of the record store and the kept recordings,
and putting it back into an empty data folder (the learning index is rebuilt, the audit chain checked)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import PLAIN, console, translate_cli, user_errors
from assistant.settings import get_settings

ArchiveArg = Annotated[Path, typer.Argument(help="The archive: .tar, or .tar.gz to compress it.")]


def backup(archive: ArchiveArg) -> None:
    """Write the record store, kept recordings and a manifest (counts, checksums) to ARCHIVE, while Debrief runs."""
    from assistant.backup import backup as write_backup

    with user_errors():
        manifest = write_backup(get_settings(), archive)
    counts = manifest.counts
    console.print(translate_cli(
        "backup.written", path=str(archive), cases=counts.get("cases", 0),
        points=counts.get("learning_points", 0), recordings=len(manifest.files) - 1,
        events=manifest.audit_events, megabytes=round(archive.stat().st_size / 1e6, 1),
    ), **PLAIN)


def restore(archive: ArchiveArg) -> None:
    """Restore ARCHIVE into an empty data folder (DEBRIEF_DATA_DIR) and store; checks it and rebuilds the index."""
    from assistant.backup import restore as restore_archive

    with user_errors():
        report = restore_archive(get_settings(), archive)
    console.print(translate_cli(
        "backup.restored", cases=report.counts.get("cases", 0), points=report.counts.get("learning_points", 0),
        recordings=report.recordings, events=report.audit_events, indexed=report.indexed_points,
        requeued=report.requeued_jobs,
    ), **PLAIN)
