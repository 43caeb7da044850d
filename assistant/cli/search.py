"""`debrief similar`, `debrief ask` and `debrief index rebuild|check`: searching approved learning points, and the
index that search reads (derived from the record store, so it can always be rebuilt from it)."""

from __future__ import annotations

import datetime as dt

import typer

from assistant.cli.common import (
    PLAIN,
    CategoryOpt,
    SectorOpt,
    SinceOpt,
    UnitOpt,
    UntilOpt,
    console,
    day,
    open_runtime,
    translate_cli,
    user_errors,
)
from assistant.models import Sector


def _filters(sector: list[Sector] | None, category: list[str] | None, since: dt.datetime | None,
             until: dt.datetime | None, unit: list[str] | None = None, safety_ii: bool | None = None):
    """The index's search filters from the shell's options (an empty list means: any)."""
    from vectorstore.schema import SearchFilters

    return SearchFilters(
        sectors=[s.value for s in sector or []], categories=list(category or []), units=list(unit or []),
        since=day(since), until=day(until), include_safety_ii=safety_ii,
    )


def similar(query: str, sector: SectorOpt = None, category: CategoryOpt = None, unit: UnitOpt = None,
            since: SinceOpt = None, until: UntilOpt = None, k: int = 5) -> None:
    """Approved learning points similar to QUERY, ranked, with a clear answer when nothing is similar enough."""
    from assistant.auth import Actor, Role
    from assistant.chat import similar_cases

    runtime = open_runtime()
    with user_errors():
        result = similar_cases(runtime.index, Actor(name="cli", role=Role.staff), query,
                               _filters(sector, category, since, until, unit), k=k)
    if result.nothing_similar:
        console.print(translate_cli("ask.nothing_similar"))
        if not result.hits:
            return
    for hit in result.hits:
        label = hit.reference or f"{hit.case_id} / {hit.learning_point_id}"  # ids only for a not yet repaired index
        console.print(f"{hit.rank}. {hit.score:.3f}  [{label}]  {hit.unit or '-'}  "
                      f"{hit.event_date or '-'}  {hit.category}  {hit.title}", **PLAIN)


def ask(question: str, sector: SectorOpt = None, category: CategoryOpt = None, unit: UnitOpt = None,
        since: SinceOpt = None, until: UntilOpt = None) -> None:
    """Answer in Danish from approved learning points only; every claim cites its case and learning point."""
    from assistant.auth import Actor, Role
    from assistant.chat import stream_answer

    runtime = open_runtime()
    with user_errors():
        for event in stream_answer(runtime.index, runtime.components.chat, runtime.settings,
                                   Actor(name="cli", role=Role.staff), question,
                                   _filters(sector, category, since, until, unit)):
            console.print(event.text_delta, end="", **PLAIN)
            if event.done and event.citations:
                console.print()
                for c in event.citations:
                    console.print(f"  {c.label} {c.title}", **PLAIN)
    console.print()


def index_rebuild() -> None:
    """Recreate the index from the record store and verify that it matches."""
    from assistant.indexing import rebuild_index

    runtime = open_runtime()
    diff = rebuild_index(runtime.db, runtime.index)
    console.print(f"{runtime.index.count()} learning points indexed; differences: "
                  f"{len(diff.missing)} missing, {len(diff.orphaned)} orphaned, {len(diff.stale)} stale")
    if not diff.consistent:
        raise typer.Exit(code=1)


def index_check() -> None:
    """Compare the index with the record store (exit 1 on any difference)."""
    from assistant.indexing import check_index

    runtime = open_runtime()
    diff = check_index(runtime.db, runtime.index)
    console.print(f"missing={diff.missing} orphaned={diff.orphaned} stale={diff.stale}")
    if not diff.consistent:
        raise typer.Exit(code=1)
