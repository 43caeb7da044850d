"""Handing in a debrief: recordings, typed notes and guide notes become a case and a job."""

from __future__ import annotations

from assistant.intake.confirmation import Confirmation, confirm_transcript
from assistant.intake.public_report import PublicReportLimits, submit_public_report
from assistant.intake.submission import (
    correct_line,
    numbered_segments,
    parse_numbered_segments,
    revise_transcript,
    submit_guide_notes,
    submit_notes,
    submit_recording,
)

__all__ = [
    "Confirmation",
    "PublicReportLimits",
    "confirm_transcript",
    "correct_line",
    "numbered_segments",
    "parse_numbered_segments",
    "revise_transcript",
    "submit_guide_notes",
    "submit_notes",
    "submit_public_report",
    "submit_recording",
]
