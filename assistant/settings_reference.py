"""docs/settings.md, rendered from the :class:`~assistant.settings.Settings` class so the reference cannot drift.

``python scripts/update_docs.py`` writes the file; ``tests/docs/test_settings_reference.py`` fails when it is stale.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from assistant.settings import Settings

SETTINGS_DOC = Path("docs") / "settings.md"
DEFAULT_GROUP = "General"
_PLAIN_TYPES = {
    str: "text", int: "integer", float: "number", bool: "true / false", Path: "path", SecretStr: "text (secret)",
}
_INTRO = """\
# Settings reference

<!-- Generated from assistant/settings.py by `python scripts/update_docs.py`; do not edit by hand. -->

Every setting is an environment variable (`{prefix}` and the name in capitals) or a key (the name in lower case)
in a TOML settings file: `./debrief.toml`, or the file named by `DEBRIEF_SETTINGS_FILE`. An environment variable
wins over the file. Models and how to switch them: [models.md](models.md).
"""


def env_name(field: str) -> str:
    """The environment variable that sets ``field``, as deployers type it."""
    return f"{Settings.model_config.get('env_prefix', '')}{field}".upper()


def setting_groups() -> dict[str, list[str]]:
    """Field names under the class's ``# Heading`` comments, in order, so the reference reads like the code."""
    groups: dict[str, list[str]] = {}
    current, previous_blank = DEFAULT_GROUP, True
    for line in inspect.getsource(Settings).splitlines():
        heading = re.fullmatch(r" {4}# (.+)", line)
        field = re.match(r" {4}(\w+)\s*:", line)
        if heading and previous_blank:
            current = heading.group(1).strip()
        elif field and field.group(1) in Settings.model_fields:
            groups.setdefault(current, []).append(field.group(1))
        previous_blank = not line.strip()
    return groups


def _type_text(annotation: Any) -> str:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is Literal:
        return " / ".join(f"`{value}`" for value in args)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        present = [arg for arg in args if arg is not type(None)]
        text = " or ".join(_type_text(arg) for arg in present)
        return f"{text}, optional" if len(present) < len(args) else text
    return _PLAIN_TYPES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default_text(info: FieldInfo) -> str:
    if info.default_factory is not None:  # the factory's docstring says what it computes (a home folder, the cores)
        return (inspect.getdoc(info.default_factory) or "computed").replace("``", "`")
    value = info.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_settings_reference() -> str:
    """The whole of docs/settings.md: one table per group of settings, each row env var, type, default, description."""
    parts = [_INTRO.format(prefix=env_name(""))]
    for group, names in setting_groups().items():
        parts.append(f"\n## {group}\n\n| variable | type | default | what it does |\n|---|---|---|---|\n")
        for name in names:
            info = Settings.model_fields[name]
            row = (f"`{env_name(name)}`", _type_text(info.annotation), _default_text(info), info.description or "")
            parts.append("| " + " | ".join(_cell(cell) for cell in row) + " |\n")
    return "".join(parts)
