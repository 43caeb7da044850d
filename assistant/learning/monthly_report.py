"""The monthly learning report: what was approved for sharing in a month, the themes it belongs to, good practice
worth spreading, the follow-up of actions, and the counts — anonymised, as Markdown, HTML or PDF.

Only approved points of the chosen audience are read, and only their (already pseudonymised) text; the pseudonym
map is never read. Before rendering, every text in the report passes a last scan with the pseudonymiser's own
CPR, phone and e-mail recognisers, and whatever they find is blanked out (and counted in the report).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import statistics
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, Field
from sqlalchemy import select

from assistant.auth import Actor, Permission
from assistant.errors import InvalidInput
from assistant.i18n import translate
from assistant.learning.actions import (
    OPEN_STATUSES,
    ActionCount,
    ActionStatus,
    TrackedAction,
    count_actions,
    list_actions,
)
from assistant.learning.patterns import (
    Audience,
    PatternPoint,
    Patterns,
    Theme,
    VectorSource,
    approved_points,
    audience_visibility,
    find_patterns,
    name_theme,
)
from assistant.llm import ChatModel
from assistant.settings import Settings
from assistant.store import Database
from assistant.store.tables import Case, Draft, LearningPoint

TEMPLATES = Path(__file__).parent / "report_templates"
Format = Literal["md", "html", "pdf"]
FORMATS: tuple[str, ...] = ("md", "html", "pdf")
TOP_THEMES = 5
POINTS_PER_THEME = 3
GOOD_PRACTICE = 8
HISTORY_MONTHS = 12  # themes are found among the points of the last year, so a month's points meet their peers
SCAN_ENTITIES = ("CPR", "TELEFON", "EMAIL")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
REPORT_YEARS = (1900, 2999)


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of ``yyyy-mm``; refuses anything else with a translated error."""
    match = _MONTH.fullmatch((month or "").strip())
    # Years far off (0000, 9999) are typos, and dates cannot reach the history before them or the month after.
    if not match or not REPORT_YEARS[0] <= int(match[1]) <= REPORT_YEARS[1]:
        raise InvalidInput("learning.bad_month", month=(month or "")[:20])
    first = dt.date(int(match[1]), int(match[2]), 1)
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def _months_before(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


class ReportPoint(BaseModel):
    """An approved learning point as the report quotes it (pseudonymised text, no case details beyond sector)."""

    id: str
    reference: str = ""  # "UTH-2026-0142/2", what readers can look up and quote
    title: str
    what_happened: str
    what_went_well: list[str] = []
    sector: str
    unit: str = ""
    category: str
    month: str


class ReportTheme(BaseModel):
    """A theme with the points that show it; its label is a draft by AI unless it came from keywords."""

    id: str
    label: str
    label_source: Literal["llm", "keywords"]
    keywords: list[str]
    size: int
    this_month: int
    sectors: dict[str, int]
    crosses_sectors: bool
    points: list[ReportPoint]


class ReportCounts(BaseModel):
    """The month in numbers (approved counts are for the report's audience)."""

    cases_received: int
    points_approved: int
    safety_ii: int
    points_rejected: int
    awaiting_decision: int
    median_days_to_decision: float | None
    by_sector: dict[str, int]
    by_category: dict[str, int]


class MonthlyReport(BaseModel):
    """Everything the report shows; rendered by templates, never built from the pseudonym map."""

    month: str
    audience: Audience
    generated_at: dt.datetime
    counts: ReportCounts
    top_themes: list[ReportTheme]
    new_themes: list[ReportTheme]
    good_practice: list[ReportPoint]
    open_actions: list[TrackedAction]
    actions_done: list[TrackedAction]
    action_counts: ActionCount
    overdue_ids: list[str]
    theme_model: str | None
    theme_prompt: str
    redactions: dict[str, int] = Field(default_factory=dict)


# -- building ---------------------------------------------------------------------------------------------------


def _report_point(point: PatternPoint) -> ReportPoint:
    return ReportPoint(id=point.learning_point_id, reference=point.reference, title=point.title,
                       what_happened=point.what_happened,
                       what_went_well=point.what_went_well, sector=point.sector, unit=point.unit,
                       category=point.category, month=point.month)


def _in(moment: dt.datetime | None, first: dt.date, last: dt.date) -> bool:
    return moment is not None and first <= moment.date() <= last


def _counts(db: Database, first: dt.date, last: dt.date, visible: set[str]) -> ReportCounts:
    start, end = dt.datetime.combine(first, dt.time.min), dt.datetime.combine(last, dt.time.max)
    with db.session() as session:
        received = len(session.scalars(select(Case.id).where(Case.created_at.between(start, end))).all())
        decided = session.execute(
            select(LearningPoint, Case.sector).join(Case, Case.id == LearningPoint.case_id)
            .where(LearningPoint.decided_at.between(start, end),
                   LearningPoint.status.in_(("approved", "rejected")))
        ).all()
        newest = select(Draft.id).where(Draft.case_id == Case.id).order_by(Draft.created_at.desc()).limit(1)
        awaiting = len(session.scalars(
            select(LearningPoint.id).join(Case, Case.id == LearningPoint.case_id)
            .where(LearningPoint.status.in_(("draft", "returned")), LearningPoint.draft_id == newest.scalar_subquery())
        ).all())
    approved = [(p, sector) for p, sector in decided if p.status == "approved" and p.visibility in visible]
    days = [(p.decided_at - p.created_at).total_seconds() / 86400 for p, _ in decided]
    by_sector: dict[str, int] = {}
    by_category: dict[str, int] = {}
    for point, sector in approved:
        by_sector[sector] = by_sector.get(sector, 0) + 1
        by_category[point.category] = by_category.get(point.category, 0) + 1
    return ReportCounts(
        cases_received=received, points_approved=len(approved), safety_ii=sum(p.safety_ii for p, _ in approved),
        points_rejected=sum(p.status == "rejected" for p, _ in decided), awaiting_decision=awaiting,
        median_days_to_decision=round(statistics.median(days), 2) if days else None,
        by_sector=dict(sorted(by_sector.items(), key=lambda kv: -kv[1])),
        by_category=dict(sorted(by_category.items(), key=lambda kv: -kv[1])),
    )


def _report_theme(theme: Theme, patterns: Patterns, this_month: set[str]) -> ReportTheme:
    # The LLM's cited points first, then this month's, then the most typical members.
    order = list(dict.fromkeys([*theme.cited_ids, *[m for m in theme.member_ids if m in this_month],
                                *theme.member_ids]))
    shown = [_report_point(patterns.points[i]) for i in order[:POINTS_PER_THEME]]
    return ReportTheme(id=theme.id, label=theme.label, label_source=theme.label_source, keywords=theme.keywords,
                       size=theme.size, this_month=sum(m in this_month for m in theme.member_ids),
                       sectors=theme.sectors, crosses_sectors=theme.crosses_sectors, points=shown)


def _named(theme: Theme, patterns: Patterns, chat: ChatModel | None) -> Theme:
    """Name only the themes the report shows (each name is one LLM call)."""
    if chat is None:
        return theme
    members = [patterns.points[i] for i in theme.member_ids]
    name = name_theme(chat, members, theme.keywords)
    return theme.model_copy(update={"label": name.label, "label_source": name.source, "label_note": name.note,
                                    "cited_ids": name.cited_ids})


def build_report(db: Database, vectors: VectorSource, actor: Actor, month: str, *, settings: Settings,
                 chat: ChatModel | None = None, audience: Audience = "staff", top: int = TOP_THEMES,
                 today: dt.date | None = None) -> MonthlyReport:
    """The report for ``month`` (yyyy-mm) from the store, scanned for CPR, phone and e-mail before it is returned."""
    actor.require(Permission.read_reports)
    first, last = month_bounds(month)
    visible = audience_visibility(audience)
    patterns = find_patterns(db, vectors, actor, since=_months_before(first, HISTORY_MONTHS - 1), until=last,
                             audience=audience, decided_until=dt.datetime.combine(last, dt.time.max))
    this_month = {pid for pid, p in patterns.points.items() if _in(p.decided_at, first, last)}
    active = [t for t in patterns.themes if any(m in this_month for m in t.member_ids)]
    ranked = sorted(active, key=lambda t: (-sum(m in this_month for m in t.member_ids), -t.size, t.id))[:top]
    new = [t for t in patterns.themes if all(m in this_month for m in t.member_ids)]
    named = {t.id: _named(t, patterns, chat) for t in {t.id: t for t in [*ranked, *new]}.values()}
    # Good practice from every point approved this month, also one whose event lies before the themes' year.
    good = sorted((p for p in approved_points(db, audience=audience)
                   if p.safety_ii and _in(p.decided_at, first, last)), key=lambda p: (p.day, p.learning_point_id))
    actions = list_actions(db, actor, visibility=visible)
    today = today or dt.date.today()
    open_actions = [a for a in actions if a.status in OPEN_STATUSES]
    report = MonthlyReport(
        month=month.strip(), audience=audience, generated_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        counts=_counts(db, first, last, visible),
        top_themes=[_report_theme(named[t.id], patterns, this_month) for t in ranked],
        new_themes=[_report_theme(named[t.id], patterns, this_month) for t in new],
        good_practice=[_report_point(p) for p in good[:GOOD_PRACTICE]],
        open_actions=open_actions,
        actions_done=[a for a in actions if a.status == ActionStatus.done and _in(a.done_at, first, last)],
        action_counts=count_actions(actions, today),
        overdue_ids=[a.id for a in open_actions if a.overdue(today)],
        theme_model=getattr(chat, "model_id", None) if named and chat is not None else None,
        theme_prompt=patterns.prompt,
    )
    return safety_scan(report, settings)


# -- the last safety scan --------------------------------------------------------------------------------------------


def _scan_text(engine: Any, text: str, found: dict[str, int]) -> str:
    from assistant.privacy import LANGUAGE, SCORE_THRESHOLD

    if not text or not any(ch.isdigit() or ch == "@" for ch in text):
        return text  # CPR, phone numbers and e-mail addresses all need a digit or an @
    results = engine.analyze(text=text, language=LANGUAGE, entities=list(SCAN_ENTITIES),
                             score_threshold=SCORE_THRESHOLD)
    for result in sorted(results, key=lambda r: r.start, reverse=True):
        found[result.entity_type] = found.get(result.entity_type, 0) + 1
        text = text[: result.start] + f"[{result.entity_type}]" + text[result.end :]
    return text


# Record ids are random hex and references a year and a count, never derived from people or content: scanning
# them can only mangle them.
_OPAQUE_FIELDS = frozenset({"id", "learning_point_id", "case_id", "overdue_ids", "reference"})


def _walk(value: Any, scan, key: str | None = None) -> Any:
    if key in _OPAQUE_FIELDS:
        return value
    if isinstance(value, str):
        return scan(value)
    if isinstance(value, list):
        return [_walk(v, scan, key) for v in value]
    if isinstance(value, dict):
        return {k: _walk(v, scan, k) for k, v in value.items()}
    return value


def safety_scan(report: MonthlyReport, settings: Settings) -> MonthlyReport:
    """Blank out CPR numbers, phone numbers and e-mail addresses anywhere in the report; counts what it blanked."""
    from assistant.privacy import analyzer

    engine = analyzer(settings)
    found: dict[str, int] = dict(report.redactions)
    data = report.model_dump(exclude={"redactions"})
    scanned = _walk(data, lambda text: _scan_text(engine, text, found))
    return MonthlyReport.model_validate({**scanned, "redactions": found})


# -- rendering ---------------------------------------------------------------------------------------------------


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!])")


def markdown_text(value: Any) -> str:
    """People's and models' text as literal Markdown: no links, headings or HTML can come from it."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(value if value is not None else "").split()))


@lru_cache(maxsize=2)
def _environment(markdown: bool) -> Environment:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, autoescape=select_autoescape(["html.j2"]) if not markdown else False)
    environment.filters["md"] = markdown_text
    return environment


def _labels(language: str):
    from prompts import load_taxonomy

    categories = {c.id: c.label(language) for c in load_taxonomy()}

    def t(key: str, **params: Any) -> str:
        return translate(f"learning.{key}", language, **params)

    def sector(value: str) -> str:
        return translate(f"ui.sector.{value}", language)

    def category(value: str) -> str:
        return categories.get(value, value)

    def status(value: ActionStatus | str) -> str:
        return t(f"action_{ActionStatus(value).value}")

    return {"t": t, "sector": sector, "category": category, "status": status}


def _context(report: MonthlyReport, language: str) -> dict[str, Any]:
    first, _ = month_bounds(report.month)
    month_name = translate(f"learning.month_{first.month:02d}", language)
    return {"r": report, "language": language, "month_name": f"{month_name} {first.year}", **_labels(language)}


def render_markdown(report: MonthlyReport, language: str = "da") -> str:
    """The report as Markdown (for e-mail or an intranet page)."""
    return _environment(True).get_template("report.md.j2").render(_context(report, language))


def render_html(report: MonthlyReport, language: str = "da") -> str:
    """The report as one self-contained HTML page (every text escaped)."""
    return _environment(False).get_template("report.html.j2").render(_context(report, language))


def _font_files() -> dict[str, Path]:
    """DejaVu Sans from matplotlib's wheel: a Unicode font (æ, ø, å, –, “ ”) on any machine pip can reach."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return {"": folder / "DejaVuSans.ttf", "B": folder / "DejaVuSans-Bold.ttf",
            "I": folder / "DejaVuSans-Oblique.ttf", "BI": folder / "DejaVuSans-BoldOblique.ttf"}


def _pdf_styles() -> dict[str, Any]:
    """Calm headings (fpdf2's default is large dark red): slate blue, sized for A4."""
    from fpdf.fonts import TextStyle

    heading = (36, 59, 83)
    return {
        "h1": TextStyle(font_size_pt=19, color=heading, t_margin=2, b_margin=2),
        "h2": TextStyle(font_size_pt=14, color=heading, t_margin=6, b_margin=2),
        "h3": TextStyle(font_size_pt=11.5, color=heading, font_style="B", t_margin=4, b_margin=1),
    }


def render_pdf(report: MonthlyReport, language: str = "da") -> bytes:
    """The report as PDF (A4, DejaVu Sans embedded), from the PDF template through fpdf2's HTML renderer."""
    from fpdf import FPDF

    html = _environment(False).get_template("report.pdf.html.j2").render(_context(report, language))
    pdf = FPDF(format="A4")
    for style, path in _font_files().items():
        pdf.add_font("DejaVu", style=style, fname=str(path))
    pdf.set_title(translate("learning.report_title", language, month=report.month))
    pdf.set_creator("Debrief")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(18, 16, 18)
    pdf.add_page()
    pdf.set_font("DejaVu", size=10)
    pdf.write_html(html, font_family="DejaVu", li_prefix_color=(82, 96, 109), table_line_separators=True,
                   tag_styles=_pdf_styles())
    buffer = io.BytesIO()
    pdf.output(buffer)
    return buffer.getvalue()


def render(report: MonthlyReport, fmt: Format, language: str = "da") -> bytes:
    """The report in ``fmt`` as bytes ready to write to a file."""
    if fmt == "pdf":
        return render_pdf(report, language)
    if fmt == "html":
        return render_html(report, language).encode("utf-8")
    if fmt == "md":
        return render_markdown(report, language).encode("utf-8")
    raise InvalidInput("learning.bad_format", format=str(fmt)[:20], formats=", ".join(FORMATS))
