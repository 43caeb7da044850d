"""`debrief db upgrade`, `debrief models prepare` and `debrief users add`: what a new installation runs once."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from assistant.auth import Role, add_user
from assistant.cli.common import console, database, translate_cli, user_errors
from assistant.settings import get_settings

ACCOUNT_ROLES = [r.value for r in Role if r != Role.public]


def db_upgrade() -> None:
    """Apply database migrations (SQLite file or the PostgreSQL URL in DEBRIEF_DATABASE_URL)."""
    from assistant.store.database import open_database

    open_database(get_settings(), upgrade=True)
    console.print(translate_cli("cli.db_ready"))


def models_prepare() -> None:
    """Assemble and checksum-verify the bundled models into the cache (once; repairs a corrupt cache)."""
    from assistant.model_cache import ensure_bundled_models

    with user_errors():
        paths = ensure_bundled_models(get_settings())
    for name, path in paths.items():
        console.print(f"{name}: {path}")
    console.print(translate_cli("cli.models_ready"))


def users_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ACCOUNT_ROLES)}.")] = Role.staff.value,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Create a local account (the password is stored only as an argon2 hash)."""
    if role not in ACCOUNT_ROLES:
        console.print(f"[red]--role: {role!r} ∉ {ACCOUNT_ROLES}[/red]")
        raise typer.Exit(code=2)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Adgangskode / password", hide_input=True, confirmation_prompt=True)
    with user_errors():
        actor = add_user(database(get_settings()), name, Role(role), password)
    role_name = translate_cli(f"ui.role.{actor.role.value}")
    console.print(translate_cli("ui.cli.user_added", name=actor.name, role=role_name))
