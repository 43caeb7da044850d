"""Learning across cases: themes, trends, the monthly report and action follow-up."""

from __future__ import annotations

from assistant.learning.actions import (
    ActionPlan,
    ActionStatus,
    count_actions,
    list_actions,
    track_action,
    update_action,
)
from assistant.learning.monthly_report import (
    FORMATS,
    build_report,
    markdown_text,
    render,
    render_html,
    render_markdown,
    safety_scan,
)
from assistant.learning.patterns import (
    EmbedderVectors,
    IndexVectors,
    PatternPoint,
    Theme,
    approved_points,
    cluster_vectors,
    find_patterns,
    name_theme,
    theme_keywords,
)
from assistant.learning.trends import TABLES, overview

__all__ = [
    "ActionPlan",
    "ActionStatus",
    "EmbedderVectors",
    "FORMATS",
    "IndexVectors",
    "PatternPoint",
    "TABLES",
    "Theme",
    "approved_points",
    "build_report",
    "cluster_vectors",
    "count_actions",
    "find_patterns",
    "list_actions",
    "markdown_text",
    "name_theme",
    "overview",
    "render",
    "render_html",
    "render_markdown",
    "safety_scan",
    "theme_keywords",
    "track_action",
    "update_action",
]
