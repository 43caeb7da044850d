"""Who may call the REST API and how it answers when they may not: the token, its scopes, its rate, the audit
of every call, and library errors as JSON with a translated message and the fitting status code."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError

from assistant.api_tokens import Scope, TokenInfo, record_call, verify_token
from assistant.cases import LookupLimiter
from assistant.disk_full import is_disk_full, storage_full
from assistant.errors import (
    EmptyQuery,
    InvalidInput,
    KeyedError,
    ModelUnavailable,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
    VectorStoreError,
    user_message,
)
from assistant.i18n import LANGUAGES, translate
from ui.context import AppContext

log = logging.getLogger(__name__)
bearer = HTTPBearer(auto_error=False, description="A token from `debrief tokens create`.")

# Most specific first: the first class an error is an instance of gives its status.
STATUS_OF: tuple[tuple[type[Exception], int], ...] = (
    (NotAuthenticated, 401),
    (TooManyRequests, 429),
    (NotAllowed, 403),
    (NotFound, 404),
    (InvalidInput, 422),
    (EmptyQuery, 422),
    (ModelUnavailable, 503),
    (VectorStoreError, 503),
)


class Problem(BaseModel):
    """One field of bad input and what is wrong with it."""

    field: str
    problem: str


class ApiError(BaseModel):
    """Why a call failed: the status again, a stable key to branch on, and a translated message."""

    status: int
    key: str
    message: str
    problems: list[Problem] | None = None  # only with 422 for bad input


class ErrorBody(BaseModel):
    """Every error answer of the API."""

    error: ApiError


def _error_answer(description: str) -> dict:
    return {"model": ErrorBody, "description": description}


# Declared on every operation, so the schema says what a client must handle (and contract tests can hold us to it).
ERROR_ANSWERS: dict[int | str, dict] = {
    401: _error_answer("No token, or an unknown or revoked one."),
    403: _error_answer("The token lacks the scope."),
    404: _error_answer("Not found (a wrong receipt code, an unknown address)."),
    422: _error_answer("Bad input; problems names the fields."),
    429: _error_answer("Over the token's limit; Retry-After says when to try again."),
    503: _error_answer("A model or the index is unavailable."),
}


@dataclass
class ApiContext:
    """What every endpoint shares: the app's runtime and receipt limiter, and one rate window for all tokens."""

    app: AppContext
    limiter: LookupLimiter

    @classmethod
    def of(cls, app: AppContext) -> ApiContext:
        per_minute = app.runtime.settings.api_requests_per_minute
        return cls(app=app, limiter=LookupLimiter(per_minute, message_key="api.too_many_requests"))


def language_of(request: Request, default: str) -> str:
    """The first of our languages the caller's ``Accept-Language`` names, else the installation's."""
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return default


def error_response(request: Request, status: int, key: str, message: str, **extra) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if status == 429 and "retry_after" in extra:
        headers["Retry-After"] = str(extra.pop("retry_after"))
    return JSONResponse({"error": {"status": status, "key": key, "message": message, **extra}}, status_code=status,
                        headers=headers)


def require(api: ApiContext, *scopes: Scope) -> Callable[..., TokenInfo]:
    """A dependency that lets a call through with a live token holding one of ``scopes`` and room in its rate
    window; otherwise 401, 429 or 403. The token is noted on the request, so the call is audited either way."""

    def dependency(request: Request,
                   credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> TokenInfo:
        token = verify_token(api.app.runtime.db, credentials.credentials if credentials else None)
        held = [s for s in scopes if token.has(s)]
        request.state.api_token = token
        request.state.api_scope = held[0] if held else scopes[0]
        api.limiter.check(token.id)  # counted before the scope check: probing scopes costs calls too
        if not held:
            token.require(scopes[0])
        return token

    return dependency


def install_error_handlers(app: FastAPI, api: ApiContext) -> None:
    """Library errors, bad input and unknown addresses as JSON with a translated message."""
    default_language = api.app.runtime.settings.ui_language

    @app.exception_handler(KeyedError)
    async def user_error(request: Request, error: Exception) -> JSONResponse:
        status = next((code for cls, code in STATUS_OF if isinstance(error, cls)), 400)
        extra = {"retry_after": error.params.get("seconds", 60)} if status == 429 else {}
        return error_response(request, status, error.key, user_message(error, language_of(request, default_language)),
                              **extra)

    @app.exception_handler(RequestValidationError)
    @app.exception_handler(ValidationError)
    async def bad_input(request: Request, error: RequestValidationError | ValidationError) -> JSONResponse:
        problems = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in error.errors()[:10]]
        reason = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:3])
        message = translate("input.invalid", language_of(request, default_language), reason=reason)
        return error_response(request, 422, "input.invalid", message, problems=problems)

    @app.exception_handler(400)
    async def unreadable_body(request: Request, error: Exception) -> JSONResponse:
        # FastAPI's answer to a body it cannot even decode (not UTF-8, say): bad input like any other, as JSON.
        problems = [{"field": "body", "problem": "not readable"}]
        message = translate("input.invalid", language_of(request, default_language), reason="body: not readable")
        return error_response(request, 422, "input.invalid", message, problems=problems)

    @app.exception_handler(404)
    async def no_such_address(request: Request, error: Exception) -> JSONResponse:
        return error_response(request, 404, "api.not_found",
                              translate("api.not_found", language_of(request, default_language)))

    @app.exception_handler(405)
    async def wrong_method(request: Request, error: Exception) -> JSONResponse:
        return error_response(request, 405, "api.wrong_method",
                              translate("api.wrong_method", language_of(request, default_language)))


def install_audit(app: FastAPI, api: ApiContext) -> None:
    """Audit every call that names a live token, whatever its outcome; calls without one are only logged (an
    anonymous caller must not be able to fill the append-only log)."""
    settings = api.app.runtime.settings

    @app.middleware("http")
    async def audited(request: Request, call_next):
        try:
            response = await call_next(request)
        except Exception as error:  # noqa: BLE001 - the caller gets a translated 500 (or 507), never a trace
            language = language_of(request, settings.ui_language)
            if is_disk_full(error):
                log.error("the disk is full: API call %s %s refused", request.method, request.url.path)
                response = error_response(request, 507, "storage.full", storage_full().message(language))
            else:
                log.exception("unexpected error in the API")
                response = error_response(request, 500, "error.unexpected", translate("error.unexpected", language))
        token = getattr(request.state, "api_token", None)
        if token is None:
            if response.status_code == 401:
                log.info("API call without a valid token: %s %s", request.method, request.url.path)
            return response
        try:
            await run_in_threadpool(
                record_call, api.app.runtime.db, token, getattr(request.state, "api_scope", None),
                method=request.method, path=request.url.path, status=response.status_code,
                case_id=getattr(request.state, "case_id", None),
            )
        except Exception:  # noqa: BLE001 - the answer (a receipt code, say) is not withheld; the gap is logged
            log.exception("the API call %s %s by token %s could not be audited", request.method, request.url.path,
                          token.id)
        return response
