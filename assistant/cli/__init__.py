"""The ``debrief`` command line: a thin shell over the library."""

from __future__ import annotations

from assistant.cli.bench import register
from assistant.cli.main import app

__all__ = ["app", "register"]
