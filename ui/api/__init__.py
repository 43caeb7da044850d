"""The versioned REST API beside the app (``/api/v1``): hand in debriefs, follow them by receipt, read approved
points, trends, themes and the monthly report. Integrations call it with tokens from ``debrief tokens create``.

A FastAPI app of its own, mounted on the app's, so its OpenAPI schema, docs page and JSON errors stay apart from
the Gradio pages.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, Response

from assistant.i18n import translate
from ui.api.access import ERROR_ANSWERS, ApiContext, error_response, install_audit, install_error_handlers, language_of
from ui.api.docs_page import HEADERS, docs_html
from ui.api.routes import api_routes
from ui.context import AppContext

API_PATH = "/api/v1"
VERSION = "1"
DESCRIPTION = ("Every call sends `Authorization: Bearer <token>` (from `debrief tokens create`), is audited, and is "
               "limited per token (api_requests_per_minute). Errors are JSON: "
               '{"error": {"status", "key", "message"}}, the message in the language of Accept-Language (da, en).')


def api_app(ctx: AppContext) -> FastAPI:
    """The API as an ASGI app, to mount at :data:`API_PATH` before the app's mount at ``/``."""
    api = ApiContext.of(ctx)
    app = FastAPI(title="Debrief API", version=VERSION, description=DESCRIPTION, openapi_url="/openapi.json",
                  docs_url=None, redoc_url=None)
    install_error_handlers(app, api)
    install_audit(app, api)
    app.include_router(api_routes(api), responses=ERROR_ANSWERS)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(docs_html(app.openapi(), API_PATH), headers=HEADERS)

    return app


def install_not_found_beside(app: FastAPI, default_language: str) -> None:
    """On the app that mounts the API: an address under :data:`API_PATH` the mount cannot take (a newline in it
    escapes its pattern) still gets the API's JSON 404, not the app's."""

    async def not_found(request: Request, error: Exception) -> Response:
        if request.url.path == API_PATH or request.url.path.startswith(API_PATH + "/"):
            return error_response(request, 404, "api.not_found",
                                  translate("api.not_found", language_of(request, default_language)))
        return await http_exception_handler(request, error)

    app.add_exception_handler(404, not_found)


__all__ = ["API_PATH", "api_app", "install_not_found_beside"]
