"""What every ``debrief`` command shares, written once: the console, translated messages, how a user error ends a
command, the runtime and database a command opens, and the options several commands take alike.

Commands stay thin: they call the library, print through :data:`console`, and hand expected failures to
:func:`fail`, so a user always reads a sentence in their language (exit code 2), never a traceback.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from assistant.errors import USER_ERRORS, user_message
from assistant.i18n import translate
from assistant.models import Sector
from assistant.settings import Settings, get_settings

console = Console()
PLAIN = {"markup": False, "highlight": False}  # for text users wrote: print it as is, never as Rich markup

SectorOpt = Annotated[list[Sector] | None, typer.Option("--sector", help="Repeat for several.")]
CategoryOpt = Annotated[list[str] | None, typer.Option("--category", help="Category id, e.g. medicin.")]
UnitOpt = Annotated[list[str] | None, typer.Option("--unit")]
SinceOpt = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Event date from (YYYY-MM-DD).")]
UntilOpt = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Event date to (YYYY-MM-DD).")]
DateOpt = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="YYYY-MM-DD")]


def translate_cli(key: str, **params: object) -> str:
    """``key`` translated into the configured UI language, so the shell speaks the same language as the app."""
    return translate(key, get_settings().ui_language, **params)


def fail(error: Exception) -> NoReturn:
    """End the command on a user error (one of ``USER_ERRORS``): its translated sentence in red, exit code 2.

    ``user_message`` rather than ``error.message()``: the index's own errors have no ``message`` method.
    """
    console.print(f"[red]{user_message(error, get_settings().ui_language)}[/red]")
    raise typer.Exit(code=2) from None


@contextmanager
def user_errors() -> Iterator[None]:
    """Run the block; a user error raised in it ends the command through :func:`fail` (anything else propagates)."""
    try:
        yield
    except USER_ERRORS as error:
        fail(error)


def open_runtime():
    """Store, index and models as the app uses them; imported late so ``debrief --help`` starts quickly."""
    from assistant.jobs import Runtime

    return Runtime.create(get_settings())


def database(settings: Settings):
    """The record store alone, for commands that need no index or model."""
    from assistant.store import open_database

    return open_database(settings)


def day(value: dt.datetime | None) -> dt.date | None:
    """The date of a ``--since``/``--until``-style option (Typer parses dates as datetimes)."""
    return value.date() if value else None


def emit(text: str, output: Path | None) -> None:
    """Print ``text`` as plain stdout (no Rich markup, so it can be piped), or write it to ``output``."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
