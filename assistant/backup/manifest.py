"""What a backup archive says about itself: the pydantic manifest, the names its members may have, checksums."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
SQLITE_MEMBER = "store/debrief.db"
POSTGRES_MEMBER = "store/debrief.pgdump"  # pg_dump's custom format
AUDIO_PREFIX = "audio/"
# Only names Debrief itself writes are accepted, so an archive can never place a file outside the target folder.
_MEMBER = re.compile(r"^(store/debrief\.(db|pgdump)|audio/[0-9a-f]{32}(\.[a-z0-9]{1,8})?)$")


class ArchivedFile(BaseModel):
    """One member of the archive and the checksum it must have."""

    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int = Field(ge=0)

    @field_validator("name")
    @classmethod
    def _known_name(cls, name: str) -> str:
        if not _MEMBER.match(name):
            raise ValueError(f"not a name a Debrief backup holds: {name!r}")
        return name


class StoreState(BaseModel):
    """The record store as the backup saw it, in one consistent snapshot."""

    dialect: Literal["sqlite", "postgresql"]
    schema_revision: str | None
    counts: dict[str, int]  # rows per table
    approved_points: int  # what the learning index must hold after a restore
    audit_events: int
    audit_chain: str  # assistant.audit.audit_chain over every event, in order


class BackupManifest(StoreState):
    """``manifest.json``: format version, when and by which Debrief it was made, the store's counts and audit
    chain, and a checksum for every other member. The learning index is not archived: a restore rebuilds it."""

    version: int = FORMAT_VERSION
    created: dt.datetime
    debrief_version: str
    files: list[ArchivedFile]
    # Recordings the store still listed but whose retention ended (or that were erased) while the backup ran.
    audio_gone: list[str] = []

    @property
    def store_member(self) -> str:
        return SQLITE_MEMBER if self.dialect == "sqlite" else POSTGRES_MEMBER


def file_checksum(path: Path) -> str:
    """The sha256 of a file, read in blocks (recordings can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
