"""The app's commands: ``debrief serve`` (web app + worker) and ``debrief users add`` (local accounts)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from assistant.auth import Role, add_user
from assistant.errors import DebriefError
from assistant.i18n import translate
from assistant.settings import get_settings

console = Console()
users_app = typer.Typer(help="Local user accounts.", no_args_is_help=True)
ACCOUNT_ROLES = [r.value for r in Role if r != Role.public]


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default settings.host, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default settings.port).")] = None,
) -> None:
    """Start the web app and the in-process worker."""
    from ui.app import serve as serve_app

    settings = get_settings()
    updates = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    serve_app(settings.model_copy(update=updates) if updates else settings)


def users_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ACCOUNT_ROLES)}.")] = Role.staff.value,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Create a local account (the password is stored only as an argon2 hash)."""
    from assistant.store import open_database

    settings = get_settings()
    if role not in ACCOUNT_ROLES:
        console.print(f"[red]--role: {role!r} ∉ {ACCOUNT_ROLES}[/red]")
        raise typer.Exit(code=2)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Adgangskode / password", hide_input=True, confirmation_prompt=True)
    try:
        actor = add_user(open_database(settings), name, Role(role), password)
    except DebriefError as error:
        console.print(f"[red]{error.message(settings.ui_language)}[/red]")
        raise typer.Exit(code=2) from None
    console.print(translate("ui.cli.user_added", settings.ui_language, name=actor.name,
                            role=translate(f"ui.role.{actor.role.value}", settings.ui_language)))


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``users add`` to the ``debrief`` command."""
    app.command("serve")(serve)
    users_app.command("add")(users_add)
    app.add_typer(users_app, name="users")
