"""``/sso/login`` and ``/sso/callback``: single sign-on with the region's identity provider, outside Gradio.

Every check is in :class:`assistant.sso.SingleSignOn`; these routes only carry the browser there and back, and on
success open the same kind of login Gradio's own form opens (a token in the store, Gradio's cookie names), so
log-out, expiry and the role checks work alike for both kinds of account.
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assistant.errors import USER_ERRORS, user_message
from assistant.i18n import translate
from assistant.sso import LOGIN_SECONDS, SingleSignOn

SSO_LOGIN_PATH = "/sso/login"
SSO_CALLBACK_PATH = "/sso/callback"
STATE_COOKIE = "debrief-sso-state"
HEADERS = {"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "Cache-Control": "no-store",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
STYLE = "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;line-height:1.5}"


def sso_login_link(sso: SingleSignOn, language: str) -> str:
    """The login page's "Log ind med <provider>" link (HTML for Gradio's ``auth_message``)."""
    label = escape(translate("sso.log_in_with", language, provider=sso.name))
    rest = escape(translate("sso.or_local", language))
    return f'<br><br><a href="{SSO_LOGIN_PATH}" id="db-sso-login"><strong>{label}</strong></a> {rest}'


def _refusal_page(language: str, message: str, status: int) -> HTMLResponse:
    title = escape(translate("sso.page_title", language))
    back = escape(translate("sso.back_to_login", language))
    html = (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>Debrief · {title}</title>'
            f'<style>{STYLE}</style></head><body><h1>{title}</h1><p role="alert">{escape(message)}</p>'
            f'<p><a href="/">{back}</a></p></body></html>')
    response = HTMLResponse(html, status_code=status, headers=HEADERS)
    response.delete_cookie(STATE_COOKIE, path="/sso")
    return response


def sso_routes(sso: SingleSignOn, tokens: MutableMapping[str, str], cookie_id: str, language: str) -> APIRouter:
    """The two routes; ``tokens`` is the app's login store (token → user name), ``cookie_id`` Gradio's cookie id."""
    router = APIRouter()

    def callback_url(request: Request) -> str:
        return sso.settings.oidc_redirect_url or str(request.url_for("sso_callback"))

    @router.get(SSO_LOGIN_PATH, include_in_schema=False)
    def sso_login(request: Request) -> Response:
        try:
            started = sso.start(callback_url(request))
        except USER_ERRORS as error:
            return _refusal_page(language, user_message(error, language), 503)
        response = RedirectResponse(started.url, status_code=302, headers={"Cache-Control": "no-store"})
        # Lax: the provider sends the browser back with a top-level GET, which carries it; nothing else does.
        response.set_cookie(STATE_COOKIE, started.state, max_age=LOGIN_SECONDS, path="/sso", httponly=True,
                            samesite="lax", secure=request.url.scheme == "https")
        return response

    @router.get(SSO_CALLBACK_PATH, name="sso_callback", include_in_schema=False)
    def sso_callback(request: Request, state: str = "", code: str = "", error: str = "") -> Response:
        if error:  # the person cancelled, or the provider refused before any token
            return _refusal_page(language, translate("sso.denied", language, provider=sso.name), 403)
        try:
            actor = sso.finish(state, code, request.cookies.get(STATE_COOKIE))
        except USER_ERRORS as refused:
            return _refusal_page(language, user_message(refused, language), 403)
        token = secrets.token_urlsafe(32)
        tokens[token] = actor.name
        response = RedirectResponse("/", status_code=302, headers={"Cache-Control": "no-store"})
        response.delete_cookie(STATE_COOKIE, path="/sso")
        # The same two cookies Gradio's login form sets, so Gradio's log-out ends this login too.
        response.set_cookie(f"access-token-{cookie_id}", token, httponly=True, samesite="none", secure=True)
        response.set_cookie(f"access-token-unsecure-{cookie_id}", token, httponly=True)
        return response

    return router
