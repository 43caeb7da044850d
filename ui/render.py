"""HTML for cases, progress and status. Every text that came from people or models is escaped here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from assistant.cases import CaseView, LearningPointView, format_timestamp, warning_text
from assistant.chat import Citation
from assistant.i18n import translate
from assistant.models import CaseStatus, JobProgress, JobStatus, Stage
from assistant.review import ReporterStatus, job_error_message
from assistant.review.case_thread import ThreadMessage
from assistant.speech.speakers import speaker_label
from assistant.speech.words import count_uncertain, marked_pieces
from ui.context import t

PIPELINE = (Stage.decoding, Stage.transcription, Stage.pseudonymisation, Stage.drafting)


def _e(text: object) -> str:
    return escape(str(text if text is not None else ""), quote=True)


def progress_html(progress: JobProgress, language: str, *, source_kind: str = "audio") -> str:
    """One bar per pipeline stage: done, running (with percent) or waiting."""
    stages = PIPELINE if source_kind == "audio" else (Stage.pseudonymisation, Stage.drafting)
    current = PIPELINE.index(progress.stage) if progress.stage in PIPELINE else len(PIPELINE)
    rows = []
    for stage in stages:
        position = PIPELINE.index(stage)
        if progress.status == JobStatus.done or position < current:
            fraction, state = 1.0, "done"
        elif position == current:
            fraction = progress.progress
            state = "failed" if progress.status == JobStatus.failed else progress.status.value
        else:
            fraction, state = 0.0, "waiting"
        label = translate(f"job.stage_{stage.value}", language)
        status = t(f"progress.{state}", language)
        rows.append(
            f'<div class="db-stage db-{state}"><span class="db-stage-name">{_e(label)}</span>'
            f'<progress max="100" value="{round(fraction * 100)}"></progress>'
            f'<span class="db-stage-state">{_e(status)} {round(fraction * 100)} %</span></div>'
        )
    if progress.status == JobStatus.failed:
        rows.append(f'<p class="db-error">{_e(progress.error or job_error_message(progress.error_key, language))}</p>')
    return f'<div class="db-progress">{"".join(rows)}</div>'


def _list(title: str, items: list[str]) -> str:
    if not items:
        return ""
    return f"<p><b>{_e(title)}</b></p><ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


def segment_anchor(index: int) -> str:
    """The element id of transcript line ``index`` in a case view (what an evidence link points to)."""
    return f"seg-{int(index)}"


def _evidence_label(index: object, stamp: str, language: str, *, link: bool, audio: bool) -> str:
    label = f"#{_e(index)} {_e(stamp)}"
    if not link:
        return f'<span class="db-time">{label}</span>'
    # A plain fragment link scrolls even without script; review_tab's handler adds the highlight and audio.
    title = t("case.evidence_play" if audio else "case.evidence_jump", language)
    return (f'<a class="db-cite db-time" href="#{segment_anchor(index)}" data-segment="{int(index)}" '
            f'title="{_e(title)}">{"▶ " if audio else ""}{label}</a>')


def point_html(point: LearningPointView, language: str, segments: dict[int, tuple[str, str]] | None = None,
               *, evidence_links: bool = False, audio: bool = False, cited: bool = False) -> str:
    """A learning point with its evidence quoted beside the transcript line (and time) it came from.

    With ``evidence_links`` each citation links to its transcript line (``segment_anchor``); ``audio`` says the
    recording was kept, so following a citation also plays that part of it; ``cited`` marks the point an Ask
    answer's link opened.
    """
    actions = [a.get("action", "") + (f" ({a['measure']})" if a.get("measure") else "")
               for a in point.suggested_actions]
    evidence = []
    for item in point.evidence:
        index = item.get("segment_index")
        stamp, line = (segments or {}).get(index, ("", ""))
        linked = evidence_links and isinstance(index, int) and index in (segments or {})
        evidence.append(
            f'<li>{_evidence_label(index, stamp, language, link=linked, audio=audio)} “{_e(item.get("quote", ""))}”'
            + (f'<br><span class="db-segment">{_e(line)}</span>' if line else "") + "</li>"
        )
    status = translate(f"review.status_{point.status}", language)
    return (
        f'<div class="db-point{" db-point-cited" if cited else ""}"><h4>{_e(point.title)}</h4>'
        f'<p class="db-meta">{_e(t("case.category", language))}: {_e(category_label(point.category, language))} · '
        f'{_e(t("case.severity", language))}: {_e(point.severity)} · {_e(t("case.status", language))}: {_e(status)}'
        + (f' · {_e(t("case.safety_ii", language))}' if point.safety_ii else "") + "</p>"
        f"<p>{_e(point.what_happened)}</p>"
        + _list(t("case.factors", language), point.contributing_factors)
        + _list(t("case.went_well", language), point.what_went_well)
        + _list(t("case.actions", language), actions)
        + (f"<p><b>{_e(t('case.evidence', language))}</b></p><ul>{''.join(evidence)}</ul>" if evidence
           # The model cited nothing that was said: the reviewer must check the point against the transcript.
           else f'<p class="db-warning">{_e(t("case.no_evidence", language))}</p>' if point.status == "draft"
           else "")
        + "".join(f'<p class="db-warning">⚠ {_e(warning_text(w, language))}</p>'
                  for w in (point.warnings if point.status == "draft" else []))
        + (f'<p class="db-note">{_e(point.decision_note)}</p>'
           if point.decision_note and point.decision_note != point.reporter_question else "")
        + _question_and_answer_html(point, language)
        + _point_label_html(point, language) + "</div>"
    )


def _point_label_html(point: LearningPointView, language: str) -> str:
    """The point's reference (``UTH-2026-0142/2``) people can read and quote; the id only if it has none."""
    if point.reference:
        return f'<p class="db-id">{_e(t("case.point_reference", language))} {_e(point.reference)}</p>'
    return f'<p class="db-id">{_e(t("case.point_id", language))}: {_e(point.id)}</p>'


def _question_and_answer_html(point: LearningPointView, language: str) -> str:
    """The agent's question to the team and the team's answer, while the point waits for a decision (cited
    cases in Ask show approved points, and their Q&A stays in the review and the audit log)."""
    if not point.reporter_question or point.status not in ("draft", "returned"):
        return ""
    html = (f'<div class="db-question"><p><b>{_e(t("case.question_to_team", language))}</b></p>'
            f'<p class="db-note">{_e(point.reporter_question)}</p>')
    if point.reporter_answer:
        answered = point.reporter_answered_at.strftime("%Y-%m-%d %H:%M") if point.reporter_answered_at else ""
        html += (f'<p><b>{_e(t("case.answer_from_team", language, date=answered))}</b></p>'
                 f'<p class="db-answer">{_e(point.reporter_answer)}</p>')
    else:
        html += f'<p class="db-meta">{_e(t("case.awaiting_answer", language))}</p>'
    return html + "</div>"


def category_label(category_id: str, language: str) -> str:
    from prompts import load_taxonomy

    for category in load_taxonomy():
        if category.id == category_id:
            return category.label(language)
    return category_id


def _marked_text(segment, threshold: float) -> str:
    """The segment's text, escaped, with uncertain words in ``<mark class="db-low">``."""
    return " ".join(f'<mark class="db-low">{_e(piece)}</mark>' if uncertain else _e(piece)
                    for piece, uncertain in marked_pieces(segment, threshold))


def case_html(case: CaseView, language: str, *, points: list[LearningPointView] | None = None,
              evidence_links: bool = False, cited_point: str | None = None, low_confidence: float = 0.0) -> str:
    """Transcript, ISBAR and learning points of one case (pseudonymised text only).

    ``evidence_links`` (the Review tab) gives each transcript line the id its citations link to; only one view
    on a page may use it, as element ids must be unique. Words the recogniser was less sure of than
    ``low_confidence`` are marked (the setting of that name; 0 marks none).
    """
    segments = {s.index: (format_timestamp(s.start) if s.end > 0 else "", s.text) for s in case.segments}
    points = case.learning_points if points is None else points
    audio = evidence_links and case.audio_kept
    transcript = "".join(
        (f'<li id="{segment_anchor(s.index)}">' if evidence_links else "<li>")
        + f'<span class="db-time">#{s.index} {_e(segments[s.index][0])}</span> '
        + (f'<span class="db-speaker">{_e(speaker_label(s.speaker, language))}:</span> ' if s.speaker else "")
        + f"{_marked_text(s, low_confidence)}</li>"
        for s in case.segments
    )
    marked, total = count_uncertain(case.segments, low_confidence)
    if marked:
        note = translate("case.low_confidence", language, marked=marked, total=total)
        transcript += f'<li class="db-meta">{_e(note)}</li>'
    isbar = "".join(
        f"<dt>{_e(translate(f'isbar.{section.part.value}', language))}</dt><dd>{_e(section.text)}</dd>"
        for section in case.isbar
    )
    body = (
        '<div class="db-case"' + (f' data-case="{_e(case.id)}"' if evidence_links else "")
        + (' data-audio="kept"' if audio else "") + ">"
        f'<p class="db-meta">{_e(t("case.case_id", language))} {_e(case.reference or case.id)} · '
        f"{_e(t('sector.' + case.sector, language))} · {_e(case.unit)} · {_e(case.event_date or '')} · "
        f"{_e(case.event_type)}</p>"
    )
    if not case.learning_points and not case.isbar:
        body += f"<p>{_e(t('case.no_draft', language, status=t('case_status.' + case.status, language)))}</p>"
    if case.draft_method and (isbar or points):
        body += f'<p class="db-meta">{_e(translate("draft.method." + case.draft_method.value, language))}</p>'
        body += "".join(f'<p class="db-warning">⚠ {_e(warning_text(w, language))}</p>' for w in case.draft_warnings)
    if isbar:
        body += f"<h3>{_e(t('case.isbar', language))}</h3><dl class='db-isbar'>{isbar}</dl>"
    if points:
        body += f"<h3>{_e(t('case.learning_points', language))}</h3>"
        if evidence_links and segments:
            hint = t("case.evidence_hint_audio" if audio else "case.evidence_hint", language)
            body += f'<p class="db-meta">{_e(hint)}</p>'
        body += "".join(point_html(p, language, segments, evidence_links=evidence_links, audio=audio,
                                   cited=p.id == cited_point) for p in points)
    if transcript:
        body += f"<h3>{_e(t('case.transcript', language))}</h3><ol class='db-transcript'>{transcript}</ol>"
    return body + "</div>"


def status_html(status: ReporterStatus, language: str) -> str:
    """What a reporter may see: status, approved points and the released message."""
    body = (
        f'<div class="db-status"><p><b>{_e(t("case.case_id", language))}</b> '
        f'{_e(status.reference or status.case_id)} · '
        f'{_e(t("case_status." + status.status, language))} · {_e(status.created_at.strftime("%Y-%m-%d"))}</p>'
    )
    if status.job and status.job.status != JobStatus.done:
        body += progress_html(status.job, language)
    if status.questions:
        body += f'<h3>{_e(t("status.questions", language))}</h3>'
        body += "".join(f'<div class="db-point db-question"><h4>{_e(q.title)}</h4>'
                        f'<p class="db-note">{_e(q.question)}</p>'
                        f'<p class="db-id">{_e(q.reference or q.point_id)}</p></div>'
                        for q in status.questions)
    if status.status == CaseStatus.decided:
        counts = t("status.points", language, approved=len(status.approved_points), total=status.points_total)
    else:
        counts = t("status.points_in_review", language, total=status.points_total)
    if status.points_total:
        body += f"<p>{_e(counts)}</p>"
    for point in status.approved_points:
        body += (f'<div class="db-point"><h4>{_e(point.title)}</h4><p>{_e(point.what_happened)}</p>'
                 + (f'<p class="db-id">{_e(point.reference)}</p>' if point.reference else "")
                 + _list(t("case.went_well", language), point.what_went_well)
                 + _list(t("case.actions", language), point.suggested_actions) + "</div>")
    if status.feedback:
        body += f'<h3>{_e(t("status.feedback", language))}</h3><p class="db-feedback">{_e(status.feedback)}</p>'
    else:
        body += f"<p>{_e(translate('review.feedback_not_released', language))}</p>"
    body += f'<h3>{_e(t("thread.title", language))}</h3>' + thread_html(status.messages, language)
    return body + "</div>"


def thread_html(messages: Sequence[ThreadMessage], language: str) -> str:
    """The thread between learning agent and reporter, oldest first; each text escaped, line breaks kept by CSS."""
    if not messages:
        return f'<p class="db-thread-empty">{_e(t("thread.empty", language))}</p>'
    items = []
    for m in messages:
        said = t(f"thread.kind_{m.kind.value}_{m.author.value}" if m.kind.value != "message"
                 else f"thread.author_{m.author.value}", language, point=m.point_reference)
        items.append(f'<li class="db-message db-message-{_e(m.author.value)}">'
                     f'<p class="db-meta">{_e(said)} · {_e(m.written_at.strftime("%Y-%m-%d %H:%M"))}</p>'
                     f'<p class="db-message-body">{_e(m.body)}</p></li>')
    return f'<ol class="db-thread">{"".join(items)}</ol>'


def message_html(text: str, kind: str = "info") -> str:
    return f'<p class="db-{kind}">{_e(text)}</p>'


# -- chat answers as Markdown ---------------------------------------------------------------------------------

_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Where a citation link points: the ids, which the click handler opens (the link text is the reference).
_CITATION_TARGET = re.compile(r"#?cite-([0-9A-Za-z_]{1,64})-([0-9A-Za-z_]{1,64})")


def escape_markdown(text: str) -> str:
    """``text`` as Markdown that renders literally: every ASCII punctuation mark is backslash-escaped, so model
    or user text cannot make links, images, HTML tags, emphasis or autolinks of its own."""
    return _ASCII_PUNCTUATION.sub(r"\\\1", text or "")


def citation_target(case_id: str, point_id: str) -> str:
    """The fragment a citation link in the Ask tab points to; ask_tab's click handler opens that case."""
    return f"#cite-{case_id}-{point_id}"


def parse_citation_target(target: str) -> tuple[str, str] | None:
    """(case id, learning point id) from a ``citation_target``, or None for anything else."""
    match = _CITATION_TARGET.fullmatch((target or "").strip())
    return (match.group(1), match.group(2)) if match else None


def answer_markdown(text: str, cited: Sequence[Citation] | None = None) -> str:
    """A chat answer as escaped Markdown in which only the labels of ``cited`` points (``[UTH-2026-0142/2]``, or
    ``[case / point]`` for a point indexed without a reference) become links to them; labels the answer did not
    cite stay plain text."""
    by_label = {c.label: c for c in cited or []}
    if not by_label:
        return escape_markdown(text)
    pattern = re.compile("|".join(re.escape(label) for label in sorted(by_label, key=len, reverse=True)))
    out, last = [], 0
    for match in pattern.finditer(text or ""):
        point = by_label[match.group(0)]
        out.append(escape_markdown(text[last:match.start()]))
        out.append(f'[{match.group(0)}]({citation_target(point.case_id, point.learning_point_id)} '
                   f'"{escape_markdown(point.title)}")')
        last = match.end()
    out.append(escape_markdown((text or "")[last:]))
    return "".join(out)
