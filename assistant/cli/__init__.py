"""The ``debrief`` command line: a thin shell over the library, assembled here from one module per concern.

Each module holds plain command functions and nothing registers itself: the two lists below alone decide every
command's name, its group and its place in ``debrief --help``. ``serve`` starts the web app, so :mod:`ui.cli` adds
it (this package never imports ``ui``); ``app`` is everything else, runnable without the UI.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import typer

from assistant.cli import backup, cases, demo, jobs, learning, measure, review, search, setup, tokens

Command = tuple[str, Callable[..., None]]


class Group(NamedTuple):
    """A ``debrief NAME …`` group of subcommands."""

    name: str
    help: str
    commands: list[Command]


COMMANDS: list[Command] = [
    ("ingest", cases.ingest), ("show", cases.show), ("worker", jobs.worker), ("similar", search.similar),
    ("ask", search.ask), ("erase", cases.erase), ("bench", measure.bench), ("eval", measure.evaluate),
    ("patterns", learning.patterns), ("trends", learning.trends), ("report", learning.report),
    ("backup", backup.backup), ("restore", backup.restore),
]
GROUPS: list[Group] = [
    Group("jobs", "Jobs: list and retry.", [("list", jobs.jobs_list), ("retry", jobs.jobs_retry)]),
    Group("db", "Record store.", [("upgrade", setup.db_upgrade)]),
    Group("models", "Bundled models.", [("prepare", setup.models_prepare)]),
    Group("index", "The learning index (derived from the record store).",
          [("rebuild", search.index_rebuild), ("check", search.index_check)]),
    Group("review", "Learning-agent review from the shell (acts as the local administrator).",
          [("list", review.review_list), ("approve", review.review_approve), ("reject", review.review_reject)]),
    Group("judgements", "Learning agents' similar / not similar judgements of case pairs (evaluation data).",
          [("export", review.judgements_export)]),
    Group("users", "Local user accounts.", [("add", setup.users_add)]),
    Group("tokens", "Tokens for integrations of the REST API (/api/v1); the secret is shown once.",
          [("create", tokens.tokens_create), ("list", tokens.tokens_list), ("revoke", tokens.tokens_revoke)]),
    Group("actions", "Follow-up of suggested actions on approved learning points (PDSA).",
          [("list", learning.actions_list), ("add", learning.actions_add), ("update", learning.actions_update)]),
    Group("demo", "Synthetic [DEMO] cases that show every tab working; removed again exactly.",
          [("load", demo.demo_load), ("clear", demo.demo_clear)]),
]


def build_app(commands: Sequence[Command] = COMMANDS, groups: Sequence[Group] = GROUPS) -> typer.Typer:
    """A fresh ``debrief`` Typer app with ``commands`` at the top level, then ``groups``, in the order given."""
    app = typer.Typer(help="Debrief: from debrief conversations to shared learning.", no_args_is_help=True)
    for name, command in commands:
        app.command(name)(command)
    for group in groups:
        sub_app = typer.Typer(help=group.help, no_args_is_help=True)
        for name, command in group.commands:
            sub_app.command(name)(command)
        app.add_typer(sub_app, name=group.name)
    return app


app = build_app()

__all__ = ["COMMANDS", "GROUPS", "Command", "Group", "app", "build_app"]
