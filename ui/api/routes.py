"""The endpoints of ``/api/v1``: each checks its token's scope, then calls the same library function the app's
tabs call, as the role the scope maps to (``assistant.api_tokens.SCOPE_ROLES``), so the library's own role checks
decide what an integration may do and see."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from enum import StrEnum
from pathlib import Path, PurePath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from assistant.api_tokens import Scope, TokenInfo
from assistant.chat import similar_cases
from assistant.chat.ask import SimilarResult
from assistant.errors import InvalidAudio, InvalidInput
from assistant.intake import submit_notes, submit_recording
from assistant.intake.submission import Submission
from assistant.learning import TABLES, IndexVectors, build_report, find_patterns, overview, render
from assistant.models import CaseContext, Sector
from assistant.review import ReporterStatus, status_by_receipt
from ui.api.access import ApiContext, require
from vectorstore.schema import SearchFilters

CSV = "text/csv; charset=utf-8"
REPORT_TYPES = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8", "pdf": "application/pdf"}
TrendTable = StrEnum("TrendTable", {name: name for name in TABLES})
Audience = Literal["staff", "public"]
TableFormat = Literal["json", "csv"]
CSV_ANSWER = {200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with a header row (format=csv)."}}
REPLAYED = {200: {"model": Submission, "description": "The same content handed in before with this token: that "
                                                      "case again (duplicate true), its receipt code null."}}


class NotesIn(BaseModel):
    """Typed notes from a debrief (free text; blank lines separate paragraphs) and what the team tells about it."""

    notes: str = Field(description="The notes. Names and CPR numbers are pseudonymised before anything is stored.")
    sector: Sector = Sector.hospital
    unit: str = Field("", max_length=200)
    event_date: dt.date | None = None
    event_type: str = Field("", max_length=200)


class ReceiptIn(BaseModel):
    """A receipt code, in the body so it never lands in an address or a proxy's log."""

    receipt_code: str = Field(min_length=1, max_length=64)


def _case_context(sector: Sector, unit: str, event_date: dt.date | None, event_type: str,
                  keep_audio: bool = False) -> CaseContext:
    return CaseContext(sector=sector, unit=unit, event_date=event_date, event_type=event_type, keep_audio=keep_audio)


def _csv(text: str, name: str) -> Response:
    return Response(text, media_type=CSV, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def api_routes(api: ApiContext) -> APIRouter:
    """Every endpoint of version 1, bound to the app's runtime."""
    router = APIRouter()
    runtime = api.app.runtime

    def chat_if(name_with_ai: bool):
        return runtime.components.chat if name_with_ai else None

    # -- handing in ------------------------------------------------------------------------------------------------

    def handed_in(submission: Submission, request: Request, response: Response) -> Submission:
        request.state.case_id = submission.case_id
        if submission.duplicate:
            response.status_code = 200  # a replay made nothing new
        else:
            api.app.wake_worker()
        return submission

    @router.post("/cases/notes", status_code=201, response_model=Submission, responses=REPLAYED, tags=["submit"],
                 summary="Hand in typed notes (scope submit)")
    def hand_in_notes(body: NotesIn, request: Request, response: Response,
                      token: TokenInfo = Depends(require(api, Scope.submit))) -> Submission:
        """Queues the notes as a new case; answers 201 with its id, its reference (UTH-2026-0142) and the
        receipt code, shown only in this answer. The same notes again with the same token (a replay) answer 200
        with that case and no receipt code; with another token, 422 ``case.already_received``."""
        context = _case_context(body.sector, body.unit, body.event_date, body.event_type)
        submission = submit_notes(runtime.db, runtime.settings, body.notes, context,
                                  actor=token.actor_for(Scope.submit), api_token_id=token.id)
        return handed_in(submission, request, response)

    @router.post("/cases/recording", status_code=201, response_model=Submission, responses=REPLAYED,
                 tags=["submit"],
                 summary="Hand in a recording (scope submit)")
    def hand_in_recording(
        request: Request,
        response: Response,
        recording: Annotated[UploadFile, File(description="The recording (wav, mp3, m4a, ogg, webm …).")],
        sector: Annotated[Sector, Form()] = Sector.hospital,
        unit: Annotated[str, Form(max_length=200)] = "",
        event_date: Annotated[dt.date | None, Form()] = None,
        event_type: Annotated[str, Form(max_length=200)] = "",
        keep_audio: Annotated[bool, Form(description="Keep the recording for keep_audio_days.")] = False,
        token: TokenInfo = Depends(require(api, Scope.submit)),
    ) -> Submission:
        """Checks and queues the recording as a new case; answers like ``/cases/notes`` (a replay too)."""
        limit = runtime.settings.max_upload_bytes
        if recording.size is not None and recording.size > limit:
            raise InvalidAudio("audio.too_big", megabytes=round(recording.size / 1e6, 1),
                               limit_megabytes=round(limit / 1e6, 1))
        context = _case_context(sector, unit, event_date, event_type, keep_audio)
        suffix = PurePath(recording.filename or "").suffix.lower()
        suffix = suffix if suffix[1:].isalnum() and len(suffix) <= 9 else ".audio"
        with tempfile.TemporaryDirectory(prefix="debrief-api-") as folder:
            # The library keeps its own copy under a generated name; this one goes with the folder.
            path = Path(folder) / f"upload{suffix}"
            with path.open("wb") as out:
                shutil.copyfileobj(recording.file, out)
            submission = submit_recording(runtime.db, runtime.settings, path, context,
                                          actor=token.actor_for(Scope.submit), api_token_id=token.id)
        return handed_in(submission, request, response)

    @router.post("/cases/status", response_model=ReporterStatus, tags=["status"],
                 summary="A case's status by its receipt code (scope status)")
    def case_status(body: ReceiptIn, request: Request,
                    token: TokenInfo = Depends(require(api, Scope.status))) -> ReporterStatus:
        """What the reporter sees with the code: status, open questions, approved points once decided, the
        released feedback. A wrong code is 404; lookups per token are limited like the app's per address."""
        found = status_by_receipt(runtime.db, body.receipt_code.strip(), client=f"api:{token.id}",
                                  limiter=api.app.receipt_limiter)
        request.state.case_id = found.case_id
        return found

    # -- reading ---------------------------------------------------------------------------------------------------

    @router.get("/points/search", response_model=SimilarResult, tags=["read"],
                summary="Search approved learning points (scope read:public or read:staff)")
    def search_points(
        q: Annotated[str, Query(min_length=1, max_length=2000, description="What to look for, in words.")],
        audience: Annotated[Audience | None, Query(description="public: public points only; staff: public and "
                                                                "internal (needs read:staff). Default: the "
                                                                "widest the token may read.")] = None,
        k: Annotated[int | None, Query(ge=1, le=50, description="How many points (default retrieval_k).")] = None,
        sector: Annotated[list[Sector] | None, Query()] = None,
        category: Annotated[list[str] | None, Query()] = None,
        since: Annotated[dt.date | None, Query(description="Event date from.")] = None,
        until: Annotated[dt.date | None, Query(description="Event date to.")] = None,
        token: TokenInfo = Depends(require(api, Scope.read_staff, Scope.read_public)),
    ) -> SimilarResult:
        """The approved points most like ``q`` that the token's audience may read, best first; says when nothing
        is similar enough."""
        wide = audience != "public" and token.has(Scope.read_staff)
        if audience == "staff" and not wide:
            token.require(Scope.read_staff)
        actor = token.actor_for(Scope.read_staff if wide else Scope.read_public)
        filters = SearchFilters(sectors={s.value for s in sector or []}, categories=set(category or []),
                                since=since, until=until)
        return similar_cases(runtime.index, actor, q, filters, k=k or runtime.settings.retrieval_k)

    @router.get("/trends", response_model=None, responses=CSV_ANSWER, tags=["trends"],
                summary="Counts by category, sector, unit and month; backlog and decision speed (scope read:trends)")
    def trends(
        since: Annotated[dt.date | None, Query(description="Cases received from.")] = None,
        until: Annotated[dt.date | None, Query(description="Cases received to.")] = None,
        fmt: Annotated[TableFormat, Query(alias="format", description="json: headline numbers and every table; "
                                                                      "csv: one table.")] = "json",
        table: Annotated[TrendTable, Query(description="The table for csv.")] = TrendTable.by_month,
        token: TokenInfo = Depends(require(api, Scope.read_trends)),
    ) -> Response:
        """The Overview tab's numbers, as ``debrief trends`` exports them."""
        data = overview(runtime.db, token.actor_for(Scope.read_trends), since=since, until=until)
        if fmt == "csv":
            return _csv(data.tables()[table.value].to_csv(index=False), f"debrief-trends-{table.value}.csv")
        return JSONResponse(json.loads(data.to_json()))

    @router.get("/themes", response_model=None, responses=CSV_ANSWER, tags=["trends"],
                summary="Themes across approved points (scope read:trends)")
    def themes(
        since: Annotated[dt.date | None, Query(description="Event date from.")] = None,
        until: Annotated[dt.date | None, Query(description="Event date to.")] = None,
        audience: Annotated[Audience, Query(description="public: only points approved as public.")] = "staff",
        name_with_ai: Annotated[bool, Query(description="Name themes with the LLM (slow on a small machine); "
                                                        "else by keywords.")] = False,
        fmt: Annotated[TableFormat, Query(alias="format", description="json: the themes; csv: one row per "
                                                                      "theme member (theme × month × sector).")]
            = "json",
        token: TokenInfo = Depends(require(api, Scope.read_trends)),
    ) -> Response:
        """Approved points grouped into themes, with how each grows over months and reaches across sectors."""
        found = find_patterns(runtime.db, IndexVectors(runtime.index), token.actor_for(Scope.read_trends),
                              since=since, until=until, audience=audience, chat=chat_if(name_with_ai))
        if fmt == "csv":
            return _csv(found.to_csv(), "debrief-themes.csv")
        return JSONResponse(found.model_dump(mode="json"))

    @router.get("/reports/monthly/{month}", response_model=None, tags=["trends"],
                summary="The monthly learning report (scope read:trends)",
                responses={200: {"content": {"application/json": {}, **{t: {} for t in REPORT_TYPES.values()}},
                                 "description": "The report as JSON, Markdown, HTML or PDF."}})
    def monthly_report(
        month: str,
        fmt: Annotated[Literal["json", "md", "html", "pdf"],
                       Query(alias="format", description="json, md, html or pdf.")] = "json",
        audience: Annotated[Audience, Query(description="public: only points approved as public.")] = "staff",
        language: Annotated[Literal["da", "en"], Query(description="The report's own texts.")] = "da",
        name_with_ai: Annotated[bool, Query(description="Name themes with the LLM.")] = False,
        token: TokenInfo = Depends(require(api, Scope.read_trends)),
    ) -> Response:
        """The anonymised report for ``month`` (YYYY-MM), as the Overview tab and ``debrief report`` make it."""
        if len(month) > 7:
            raise InvalidInput("input.invalid", reason="month: YYYY-MM")
        report = build_report(runtime.db, IndexVectors(runtime.index), token.actor_for(Scope.read_trends), month,
                              settings=runtime.settings, chat=chat_if(name_with_ai), audience=audience)
        if fmt == "json":
            return JSONResponse(report.model_dump(mode="json"))
        name = f"debrief-report-{report.month}.{fmt}"
        disposition = "attachment" if fmt == "pdf" else "inline"
        return Response(render(report, fmt, language), media_type=REPORT_TYPES[fmt],
                        headers={"Content-Disposition": f'{disposition}; filename="{name}"'})

    return router
