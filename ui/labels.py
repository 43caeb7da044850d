"""Labels that follow the language switch: each component is registered with its ``ui.toml`` key once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from ui.context import t

Extra = Callable[[str], dict[str, Any]]


class Labels:
    """Creates components with Danish labels and re-labels them all when the language changes."""

    def __init__(self, language: str = "da"):
        self.language = language
        self._items: list[tuple[gr.components.Component | gr.blocks.BlockContext, str | None, str, Extra | None]] = []

    def __call__(self, key: str) -> str:
        return t(key, self.language)

    def make(self, cls: type, key: str | None, *, attr: str = "label", extra: Extra | None = None, **kwargs: Any):
        """``cls(**kwargs)`` with ``attr`` set to the translation of ``key``; ``extra`` adds per-language updates."""
        if key is not None:
            kwargs[attr] = t(key, self.language)
        if extra is not None:
            kwargs.update(extra(self.language))
        component = cls(**kwargs)
        self._items.append((component, key, attr, extra))
        return component

    def register(self, component, key: str, attr: str = "label"):
        """Re-label a component created elsewhere (accordions, tabs opened with ``with``), from now on in
        :attr:`language` too: callers may have created it with a Danish label."""
        setattr(component, attr, t(key, self.language))  # read when the page's config is built, not before
        self._items.append((component, key, attr, None))
        return component

    def button(self, key: str, **kwargs: Any) -> gr.Button:
        return self.make(gr.Button, key, attr="value", **kwargs)

    def markdown(self, key: str, **kwargs: Any) -> gr.Markdown:
        """Our own translated text (never user text): Markdown is safe here."""
        return self.make(gr.Markdown, key, attr="value", **kwargs)

    def tab(self, key: str, **kwargs: Any) -> gr.Tab:
        return self.make(gr.Tab, key, **kwargs)

    @property
    def components(self) -> list:
        return [item[0] for item in self._items]

    def updates(self, language: str) -> list[dict[str, Any]]:
        """One ``gr.update`` per registered component, in :attr:`components` order."""
        out = []
        for _component, key, attr, extra in self._items:
            change: dict[str, Any] = {attr: t(key, language)} if key is not None else {}
            if extra is not None:
                change.update(extra(language))
            out.append(gr.update(**change))
        return out


def language_switch(labels: Labels) -> gr.Dropdown:
    """The interface language, starting at the site's setting (``labels.language``, from ``ui_language``)."""
    switch = labels.make(gr.Dropdown, "app.language", choices=[("Dansk", "da"), ("English", "en")],
                         value=labels.language, scale=0, min_width=160, elem_id="db-language")
    # In the browser only: the page's lang attribute follows, so screen readers read English in an English voice.
    switch.change(None, switch, None, js="(language) => { document.documentElement.lang = language; }",
                  api_visibility="private")
    return switch
