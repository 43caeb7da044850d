"""Counts for the open dashboard at ``/public/``: public approved points by category, sector and month, with every
small count withheld so that no case can be singled out.

The rule, for one table (categories, sectors or months) and the threshold ``k`` (setting ``public_min_count``):

1. A bucket with ``k`` points or more shows its count.
2. A bucket with 1 to ``k``-1 points shows no count: it goes into one row, "others", which does not name its
   members. Empty buckets are not listed.
3. The total is public (anyone can count the list of public points), so "others" holds the total minus every
   count shown, whether or not its number is printed. Left alone, "others" made of one small bucket would give
   that bucket away by subtraction. So "others" always holds at least two buckets and at least ``k`` points: while
   it does not, the smallest shown bucket is moved into it. A reader then learns only the sum of at least two
   buckets, of which at least one is small, and not how it splits.
4. When there are fewer than ``k`` public points in all, no table is shown at all.

Only pairs of one dimension are counted (no category × month), so tables cannot be laid over each other to narrow
a bucket down. What a live dashboard cannot prevent: comparing it before and after one approval shows where that
one point went, like any statistic published as it changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field

from assistant.auth import Actor, Permission
from assistant.learning.patterns import approved_points
from assistant.learning.trends import count_approved
from assistant.references import parse_reference
from assistant.store import Database

OTHERS = "others"  # the key of the merged row; never a category, sector or month


class Bucket(BaseModel):
    """One row of a public table: a category id, sector id, month (``yyyy-mm``) or :data:`OTHERS`."""

    key: str
    points: int | None = Field(description="The count, or None where it is withheld (fewer than the threshold).")

    @property
    def others(self) -> bool:
        return self.key == OTHERS


class PublicTable(BaseModel):
    """A table safe to publish: the buckets shown with their counts, then "others" when anything was withheld."""

    buckets: list[Bucket] = []

    def shown(self) -> dict[str, int]:
        """The counts a reader sees (the "others" row included when its count is shown)."""
        return {b.key: b.points for b in self.buckets if b.points is not None}


class PublicPoint(BaseModel):
    """A public point as the open list shows it: what to look it up by, and its title."""

    reference: str  # "UTH-2026-0142/2"
    title: str


class PublicDashboard(BaseModel):
    """Everything the open dashboard shows; ``enough`` is False when there are fewer public points than the
    threshold, and then every table is empty and the total is withheld."""

    threshold: int
    enough: bool
    total: int | None
    by_category: PublicTable
    by_sector: PublicTable
    by_month: PublicTable
    points: list[PublicPoint]


def withhold_small_counts(counts: Mapping[str, int], threshold: int, *, in_order: bool = False) -> PublicTable:
    """Apply the rule of this module to one table of counts. Buckets come most points first (``in_order``: in
    key order, for months); "others" comes last."""
    present = {key: n for key, n in counts.items() if n > 0}
    merged = {key for key, n in present.items() if n < threshold}
    if merged:
        # Complementary suppression: "others" = total − shown, so it must never be one bucket or a small sum.
        candidates = sorted((key for key in present if key not in merged), key=lambda key: (present[key], key))
        while candidates and (len(merged) < 2 or sum(present[key] for key in merged) < threshold):
            merged.add(candidates.pop(0))
    shown = [key for key in present if key not in merged]
    shown.sort(key=(lambda key: key) if in_order else (lambda key: (-present[key], key)))
    buckets = [Bucket(key=key, points=present[key]) for key in shown]
    if merged:
        together = sum(present[key] for key in merged)
        buckets.append(Bucket(key=OTHERS, points=together if len(merged) >= 2 and together >= threshold else None))
    return PublicTable(buckets=buckets)


def _reference_order(point: PublicPoint) -> tuple[int, int, int]:
    """Year, number in the year, point: "UTH-2026-0142/10" after ".../9", whatever the prefix was then."""
    parsed = parse_reference(point.reference)
    return (parsed.year, parsed.number, parsed.point or 0) if parsed else (0, 0, 0)


def public_dashboard(db: Database, actor: Actor, threshold: int) -> PublicDashboard:
    """The open dashboard: only points approved as public count, whoever asks (staff see theirs in Overview)."""
    actor.require(Permission.read_public_points)
    points = approved_points(db, audience="public")
    counts = count_approved(points)
    listed = sorted((PublicPoint(reference=p.reference, title=p.title) for p in points), key=_reference_order,
                    reverse=True)  # newest first
    if counts.total < threshold:
        empty = PublicTable()
        return PublicDashboard(threshold=threshold, enough=False, total=None, by_category=empty, by_sector=empty,
                               by_month=empty, points=listed)
    return PublicDashboard(
        threshold=threshold, enough=True, total=counts.total,
        by_category=withhold_small_counts(counts.by_category, threshold),
        by_sector=withhold_small_counts(counts.by_sector, threshold),
        by_month=withhold_small_counts(counts.by_month, threshold, in_order=True),
        points=listed,
    )
