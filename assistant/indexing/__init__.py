"""Keeping the learning index in step with the record store: indexed points, rebuild, check, recovery."""

from __future__ import annotations

from assistant.indexing.recovery import recover_index
from assistant.indexing.sync import (
    LearningIndexLike,
    approved_points,
    check_index,
    indexed_point,
    point_text,
    rebuild_index,
)

__all__ = [
    "LearningIndexLike",
    "approved_points",
    "check_index",
    "indexed_point",
    "point_text",
    "rebuild_index",
    "recover_index",
]
