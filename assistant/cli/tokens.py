"""`debrief tokens create|list|revoke`: tokens for integrations of the REST API (acts as the local administrator).

The secret is printed once, by ``create``; the store keeps only its hash.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from assistant.cli.common import PLAIN, console, database, emit, translate_cli, user_errors
from assistant.settings import get_settings


def tokens_create(
    name: Annotated[str, typer.Argument(help="The integration, e.g. power-bi or intake-form.")],
    scope: Annotated[list[str], typer.Option("--scope", help="submit, status, read:public, read:staff or "
                                                             "read:trends (repeat for several).")],
) -> None:
    """Make a token for an integration; prints its secret once."""
    from assistant.api_tokens import create_token, parse_scopes
    from assistant.auth import SYSTEM

    with user_errors():
        made = create_token(database(get_settings()), SYSTEM, name, parse_scopes(scope))
    console.print(translate_cli("api.cli.created", id=made.id, name=made.name,
                                scopes=", ".join(s.value for s in made.scopes)), **PLAIN)
    console.print(translate_cli("api.cli.secret"), **PLAIN)
    console.print(made.secret, soft_wrap=True, **PLAIN)  # never broken over lines: it is copied as it is


def tokens_list(
    all_tokens: Annotated[bool, typer.Option("--all", help="Also revoked tokens.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of text.")] = False,
) -> None:
    """The tokens (never their secrets): id, start of the secret, name, scopes, last use."""
    from assistant.api_tokens import list_tokens
    from assistant.auth import SYSTEM

    found = list_tokens(database(get_settings()), SYSTEM, include_revoked=all_tokens)
    if as_json:
        emit(json.dumps([t.model_dump(mode="json") for t in found], ensure_ascii=False, indent=2), None)
        return
    if not found:
        console.print(translate_cli("api.cli.none"))
    for t in found:
        state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "-"
        console.print(f"{t.id}  {t.prefix}…  {t.name}  [{', '.join(s.value for s in t.scopes)}]  "
                      f"created {t.created_at:%Y-%m-%d}  used {used}  {state}", soft_wrap=True, **PLAIN)


def tokens_revoke(
    token: Annotated[str, typer.Argument(help="The token's id, or the start of its secret as `list` shows it.")],
) -> None:
    """Stop a token at once: its next call is refused (401)."""
    from assistant.api_tokens import revoke_token
    from assistant.auth import SYSTEM

    with user_errors():
        revoked = revoke_token(database(get_settings()), SYSTEM, token)
    console.print(translate_cli("api.cli.revoked", id=revoked.id, name=revoked.name), **PLAIN)
