"""The case filters the review queue and the chat share: sector, unit, category and an event-date range."""

from __future__ import annotations

from typing import NamedTuple

import gradio as gr

from ui.context import t
from ui.debrief_tab import date_box, sector_choices
from ui.labels import Labels


class CaseFilterInputs(NamedTuple):
    sectors: gr.Dropdown
    unit: gr.Textbox
    category: gr.Dropdown
    since: gr.Textbox
    until: gr.Textbox


def category_choices(language: str, *, blank: bool = False) -> list[tuple[str, str]]:
    from prompts import load_taxonomy

    choices = [(c.label(language), c.id) for c in load_taxonomy()]
    return [(t("common.all", language), "")] + choices if blank else choices


def case_filter_inputs(labels: Labels) -> CaseFilterInputs:
    """The filter widgets, placed in the caller's current row."""
    return CaseFilterInputs(
        sectors=labels.make(gr.Dropdown, "review.sectors", multiselect=True, value=[],
                            extra=lambda lang: {"choices": sector_choices(lang)}),
        unit=labels.make(gr.Textbox, "debrief.unit"),
        category=labels.make(gr.Dropdown, "review.category", value="",
                             extra=lambda lang: {"choices": category_choices(lang, blank=True)}),
        since=date_box(labels, "common.since"),
        until=date_box(labels, "common.until"),
    )
