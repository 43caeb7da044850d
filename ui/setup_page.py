"""The page behind the one-time setup link: the first visitor with the link creates the first administrator.

A plain HTML form outside Gradio (it must work before anyone can log in); the token in the form is the link's own,
so a page from elsewhere cannot post it. Every check is in :class:`assistant.onboarding.FirstAdminSetup`.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse

from assistant.auth import MIN_PASSWORD_LENGTH
from assistant.errors import USER_ERRORS, user_message
from assistant.i18n import translate
from assistant.onboarding import SETUP_PATH, FirstAdminSetup

# No referrer (the token is in the address), no framing, nothing fetched from elsewhere.
HEADERS = {"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "Cache-Control": "no-store",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"}
STYLE = ("body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;line-height:1.5}"
         "label{display:block;margin-top:1rem}input{width:100%;padding:.4rem;font-size:1rem}"
         "button{margin-top:1.2rem;padding:.5rem 1rem;font-size:1rem}.error{color:#b00020}")


def _page(language: str, body: str, status: int = 200) -> HTMLResponse:
    title = _text("page_title", language)
    html = (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>Debrief · {title}</title>'
            f"<style>{STYLE}</style></head><body><h1>{title}</h1>{body}</body></html>")
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _text(key: str, language: str, **params) -> str:
    return escape(translate(f"onboarding.{key}", language, **params))


def _form(language: str, token: str, name: str = "", error: str | None = None) -> str:
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return (f"<p>{_text('page_intro', language, limit=MIN_PASSWORD_LENGTH)}</p>{message}"
            f'<form method="post" action="{SETUP_PATH}">'
            f'<input type="hidden" name="token" value="{escape(token)}">'
            f'<label>{_text("name", language)}<input name="name" value="{escape(name)}" required '
            f'autocomplete="username" maxlength="120"></label>'
            f'<label>{_text("password", language)}<input type="password" name="password" required '
            f'minlength="{MIN_PASSWORD_LENGTH}" autocomplete="new-password"></label>'
            f'<label>{_text("password_again", language)}<input type="password" name="password_again" required '
            f'minlength="{MIN_PASSWORD_LENGTH}" autocomplete="new-password"></label>'
            f'<button type="submit">{_text("create", language)}</button></form>')


def setup_routes(setup: FirstAdminSetup, language: str, on_created: Callable[[], None]) -> APIRouter:
    """``GET``/``POST`` ``/setup``: the form, and the first administrator made from it (``on_created`` after)."""
    router = APIRouter()

    @router.get(SETUP_PATH, include_in_schema=False)
    def setup_form(token: str = "") -> HTMLResponse:
        try:
            setup.check(token)
        except USER_ERRORS as error:
            return _page(language, f'<p class="error">{escape(user_message(error, language))}</p>', 403)
        return _page(language, _form(language, token))

    @router.post(SETUP_PATH, include_in_schema=False)
    def create_first_admin(token: str = Form(""), name: str = Form(""), password: str = Form(""),
                           password_again: str = Form("")) -> HTMLResponse:
        try:
            setup.check(token)
        except USER_ERRORS as error:
            return _page(language, f'<p class="error">{escape(user_message(error, language))}</p>', 403)
        try:
            actor = setup.create_admin(token, name, password, password_again)
        except USER_ERRORS as error:
            return _page(language, _form(language, token, name, user_message(error, language)), 422)
        on_created()
        return _page(language, f"<p>{_text('created', language, name=actor.name)}</p>"
                                      f'<p><a href="/">{_text("log_in", language)}</a></p>')

    return router
