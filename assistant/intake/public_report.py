"""The open report page's intake: a patient or relative tells what happened, without a login.

It is the team's intake (validation, pseudonymisation in the pipeline before anything is shared, a receipt code
shown once) with tighter limits, because anyone can reach it: a shorter text, a smaller recording, a count per
client and for everyone per hour, and a lower job priority so the team's own debriefs are never kept waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from assistant.cases import LookupLimiter
from assistant.errors import InvalidAudio, InvalidInput
from assistant.intake.submission import (
    Submission,
    _submit_recording,
    _submit_segments,
    _Submitter,
    clean_notes,
    notes_to_segments,
)
from assistant.models import CaseContext, ReporterType, SourceKind
from assistant.settings import Settings
from assistant.store import Database

HOUR_SECONDS = 3600.0
PUBLIC_REPORTERS = (ReporterType.patient, ReporterType.relative)


class PublicReportLimits:
    """How many reports the open page takes in any hour: from one client (address), and from everyone together.

    In memory, as the receipt lookups' limit: one app process serves the open page.
    """

    EVERYONE = "*"

    def __init__(self, per_client_per_hour: int, per_hour: int, clock: Callable[[], float] = time.monotonic):
        self.per_client = LookupLimiter(per_client_per_hour, clock, message_key="report.too_many_from_you",
                                        window_seconds=HOUR_SECONDS)
        self.everyone = LookupLimiter(per_hour, clock, message_key="report.too_many_now", window_seconds=HOUR_SECONDS)

    @classmethod
    def from_settings(cls, settings: Settings) -> PublicReportLimits:
        return cls(settings.public_reports_per_client_per_hour, settings.public_reports_per_hour)

    def check(self, client: str) -> None:
        """Count one report by ``client``; a translated TooManyRequests when either limit is reached.

        The client's own limit is checked first, so one client's refused attempts never use up everyone's hour.
        """
        self.per_client.check(client)
        self.everyone.check(self.EVERYONE)


def public_recording_settings(settings: Settings) -> Settings:
    """The settings a recording from the open page is validated with: its own smaller size and length."""
    return settings.model_copy(update={
        "max_upload_bytes": min(settings.max_upload_bytes, settings.public_report_max_upload_bytes),
        "max_audio_seconds": min(settings.max_audio_seconds, settings.public_report_max_audio_seconds),
    })


def submit_public_report(
    db: Database,
    settings: Settings,
    limits: PublicReportLimits,
    client: str,
    *,
    reporter_type: ReporterType | str,
    consent: bool,
    text: str | None = None,
    recording: Path | None = None,
) -> Submission:
    """Queue a patient's or relative's account (typed or recorded) as a case of their ``reporter_type``.

    Refused with a translated error, nothing stored, when: who is telling is not chosen, consent is not given,
    both or neither of text and recording are given, a recording comes while spoken accounts are off, the text or
    recording is too long or large, or ``client`` or everyone is over the hourly limit. An identical earlier
    account is never handed back, only named.
    """
    try:
        who = ReporterType(reporter_type)
    except ValueError:
        raise InvalidInput("report.who_missing") from None
    if who not in PUBLIC_REPORTERS:
        raise InvalidInput("report.who_missing")
    if not consent:
        raise InvalidInput("report.consent_missing")
    typed = (text or "").strip()
    if typed and recording:
        raise InvalidInput("report.both_given")
    if not typed and not recording:
        raise InvalidInput("report.empty")
    context = CaseContext()  # no keep_audio: a citizen's recording goes once it is transcribed
    submitter = _Submitter(anonymous=True)
    if recording:
        if not settings.public_report_audio:
            raise InvalidInput("report.audio_off")
        limited = public_recording_settings(settings)
        size = Path(recording).stat().st_size
        if size > limited.max_upload_bytes:
            # Checked before counting, so a file that is only too large does not use up the hour.
            raise InvalidAudio("audio.too_big", megabytes=round(size / 1024 / 1024, 1),
                               limit_megabytes=round(limited.max_upload_bytes / 1024 / 1024, 1))
        limits.check(client)
        return _submit_recording(db, limited, Path(recording), context, submitter, who)
    try:
        cleaned = clean_notes(typed)
    except InvalidInput as error:
        # The team's notes refusals name the team's own (far larger) limit; a citizen gets the open page's words.
        if error.key == "input.empty_notes":
            raise InvalidInput("report.empty") from None
        if error.key == "input.notes_too_long":
            raise InvalidInput("report.too_long", chars=len(typed), limit=settings.public_report_max_chars) from None
        raise
    if len(cleaned) > settings.public_report_max_chars:
        raise InvalidInput("report.too_long", chars=len(cleaned), limit=settings.public_report_max_chars)
    limits.check(client)
    return _submit_segments(db, notes_to_segments(cleaned), context, SourceKind.notes, submitter, reporter_type=who)
