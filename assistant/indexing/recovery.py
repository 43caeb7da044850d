"""What a restarted Debrief does before it serves: bring the derived index back in line with the record store.

An approval writes the index inside the store's transaction, so a process killed between the two leaves an
entry the store never committed (an orphan); an erasure killed half-way can leave the opposite. The store is
the source of truth, so the index is repaired towards it — a few ids, not a rebuild.
"""

from __future__ import annotations

import logging

from assistant.indexing.sync import IndexDiff, approved_points, check_index
from assistant.store import Database

log = logging.getLogger(__name__)


def recover_index(db: Database, index) -> IndexDiff:
    """Delete orphaned entries, add missing and refresh stale ones; returns what was repaired."""
    diff = check_index(db, index)
    if diff.consistent:
        return diff
    if diff.orphaned:
        index.delete(diff.orphaned)
    wanted = set(diff.missing) | set(diff.stale)
    if wanted:
        index.upsert([p for p in approved_points(db) if p.learning_point_id in wanted])
    log.warning("index repaired after a restart: %d orphaned, %d missing, %d stale",
                len(diff.orphaned), len(diff.missing), len(diff.stale))
    return diff
