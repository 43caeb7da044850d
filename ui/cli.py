"""The installed ``debrief`` command: the library's commands (:mod:`assistant.cli`) plus ``serve``.

``serve`` lives here because it starts this package's web app, and the library below never imports ``ui``.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from assistant.cli import COMMANDS, GROUPS, Command, build_app
from assistant.settings import get_settings


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default settings.host, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default settings.port).")] = None,
) -> None:
    """Start the web app and the in-process worker."""
    from ui.app import serve as serve_app  # Gradio loads only when the app is started, not for `debrief --help`

    settings = get_settings()
    updates = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    serve_app(settings.model_copy(update=updates) if updates else settings)


def with_serve(commands: list[Command]) -> list[Command]:
    """``commands`` with ``serve`` after ``erase``, where ``debrief --help`` has always listed it."""
    at = [name for name, _ in commands].index("erase") + 1
    return [*commands[:at], ("serve", serve), *commands[at:]]


def debrief_app() -> typer.Typer:
    """The whole ``debrief`` command."""
    return build_app(with_serve(COMMANDS), GROUPS)


def main() -> None:
    """Entry point of the ``debrief`` script (and of ``python -m ui.cli``): warnings and errors go to stderr."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    debrief_app()()


if __name__ == "__main__":
    main()
