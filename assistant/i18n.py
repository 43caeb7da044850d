"""Danish-first translations of every user-facing message, kept as data in ``assistant/locales/<lang>/*.toml``.

Each area owns one file per language (``audio.toml``, ``review.toml`` …); keys are ``<file>.<name>``.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("da", "en")
_LOCALES = Path(__file__).parent / "locales"
NAMED_THINGS = "record.what."  # keys that name a record inside another message (see record.toml)


@lru_cache(maxsize=None)
def _catalogue(language: str) -> dict[str, str]:
    nested: dict[str, dict] = {}
    for path in sorted((_LOCALES / language).glob("*.toml")):
        with path.open("rb") as fh:
            nested[path.stem] = tomllib.load(fh)
    flat: dict[str, str] = {}

    def walk(prefix: str, node: dict) -> None:
        for name, value in node.items():
            key = f"{prefix}.{name}" if prefix else name
            if isinstance(value, dict):
                walk(key, value)
            else:
                flat[key] = str(value)

    walk("", nested)
    return flat


def translate(key: str, language: str = "da", **params: object) -> str:
    """The message for ``key`` in ``language``, falling back to Danish, then to the key itself."""
    language = language if language in LANGUAGES else "da"
    template = _catalogue(language).get(key) or _catalogue("da").get(key) or key
    # A parameter naming a ``record.what.*`` key (what was not found, …) is rendered in the same language,
    # so the library never puts a Danish word into an English sentence.
    plain = {name: value for name, value in params.items() if not _is_named_thing(value)}
    params = {name: translate(value, language, **plain) if _is_named_thing(value) else value
              for name, value in params.items()}
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def _is_named_thing(value: object) -> bool:
    return isinstance(value, str) and value.startswith(NAMED_THINGS)


def keys(language: str) -> set[str]:
    """All message keys defined for ``language`` (used by tests to keep catalogues in step)."""
    return set(_catalogue(language))
