"""The Debrief web app: a logged-in Blocks at ``/`` and an open one for public learning points at ``/public``.

Both run on one FastAPI app. Long work never runs in a request: submissions queue a job for the in-process
worker, and the pages poll its progress.
"""

from __future__ import annotations

import hashlib
import json
from html import escape
from pathlib import Path

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from sqlalchemy.engine import make_url

from assistant.auth import Actor, Permission, Role
from assistant.i18n import translate
from assistant.jobs import Runtime
from assistant.onboarding import has_users
from assistant.settings import Settings
from assistant.sso import SingleSignOn, is_configured
from ui import ask_tab, debrief_tab, guide_tab, overview_tab, review_tab, status_tab
from ui.api import API_PATH, api_app, install_not_found_beside
from ui.context import AppContext, t
from ui.labels import Labels, language_switch
from ui.public import build_public
from ui.setup_page import setup_routes
from ui.sso_routes import sso_login_link, sso_routes

CSS = (Path(__file__).parent / "app.css").read_text(encoding="utf-8")
PUBLIC_PATH = "/public"
CONCURRENCY = 4  # requests handled at once per event; long work is in the worker, so this stays small

# Which tabs a role sees. Hiding is a courtesy: every action is checked again in the library.
TABS = ("debrief", "guide", "review", "ask", "overview", "status")


def theme() -> gr.themes.Base:
    """Gradio's look with the browser's own fonts: nothing is fetched from font CDNs (offline, no tracking)."""
    # WCAG 2.1 AA asks 4.5:1 for text (checked by axe in tests/ui/test_ui_accessibility_browser.py): white on
    # Gradio's orange buttons (primary 500/600) has 2.8–3.6, white on primary 700 has 5.2; the light grey of
    # quieter text (neutral 400) has 2.6 on white, neutral 600 has 7.7. Dark mode keeps its grey (7.4 there).
    # The selected tab's orange text is darkened in app.css, light mode only.
    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                             font_mono=["ui-monospace", "Consolas", "monospace"]).set(
        button_primary_background_fill="*primary_700", button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover="*primary_800", button_primary_background_fill_hover_dark="*primary_800",
        body_text_color_subdued="*neutral_600",
    )


def page_language_head(language: str) -> str:
    """Gradio's page always says ``<html lang="en">``; screen readers pick their voice from it, so it starts at
    the site's language (the language switch keeps it in step, see ``ui.labels.language_switch``)."""
    return f"<script>document.documentElement.lang = {json.dumps(language)};</script>"


def visible_tabs(actor: Actor) -> dict[str, bool]:
    return {
        "debrief": actor.can(Permission.submit),
        "guide": actor.role in (Role.facilitator, Role.learning_agent, Role.admin),
        "review": actor.can(Permission.review),
        "ask": actor.can(Permission.read_staff_points),
        "overview": actor.can(Permission.read_reports),
        "status": True,
    }


def build_main(ctx: AppContext) -> gr.Blocks:
    """The logged-in app: one tab per job to be done, shown by role."""
    labels = Labels(ctx.runtime.settings.ui_language)
    language = labels.language
    # Gradio's own copies of uploads are removed by the Debrief tab at once; this sweeps what a crash left.
    with gr.Blocks(title="Debrief", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        with gr.Row(elem_id="db-header"):
            labels.markdown("app.title", elem_id="db-title")
            who = gr.HTML(elem_id="db-who")
            lang = language_switch(labels)
        tabs: dict[str, gr.Tab] = {}
        builders = {"debrief": debrief_tab, "guide": guide_tab, "review": review_tab, "ask": ask_tab,
                    "overview": overview_tab, "status": status_tab}
        with gr.Tabs() as tab_row:
            for name in TABS:
                # Hidden until the page knows who is logged in (Gradio can reveal a tab later, not hide one).
                with gr.Tab(t(f"tab.{name}", language), id=name, elem_id=f"tab-{name}", visible=name == "status") as tab:
                    builders[name].build(ctx, labels, lang)
                tabs[name] = labels.register(tab, f"tab.{name}")

        def who_html(language: str, actor: Actor) -> str:
            role = t(f"role.{actor.role.value}", language)
            return (f'<p class="db-who">{escape(t("app.logged_in_as", language, name=actor.name, role=role))} · '
                    f'<a href="/logout">{escape(t("app.log_out", language))}</a> · '
                    f'<a href="{PUBLIC_PATH}/">{escape(t("app.public_link", language))}</a></p>')

        def on_load(request: gr.Request):
            actor = ctx.actor(request)
            shown = visible_tabs(actor)
            first = next(name for name in TABS if shown[name])
            return [who_html(language, actor), gr.Tabs(selected=first)] + [gr.update(visible=shown[n]) for n in TABS]

        def relabel(language: str, request: gr.Request):
            return [who_html(language, ctx.actor(request))] + labels.updates(language)

        demo.load(on_load, None, [who, tab_row] + [tabs[n] for n in TABS], api_visibility="private")
        lang.change(relabel, lang, [who] + labels.components, api_visibility="private")
    return demo


def create_app(runtime: Runtime) -> tuple[FastAPI, AppContext]:
    """The FastAPI app with both Blocks mounted; the caller serves it (uvicorn) and owns the runtime."""
    ctx = AppContext(runtime)
    settings = runtime.settings
    main = build_main(ctx).queue(default_concurrency_limit=CONCURRENCY)
    public = build_public(ctx).queue(default_concurrency_limit=CONCURRENCY)
    app = FastAPI(title="Debrief", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get(PUBLIC_PATH, include_in_schema=False)
    def public_slash() -> RedirectResponse:
        return RedirectResponse(PUBLIC_PATH + "/")

    common = {"max_file_size": settings.max_upload_bytes, "ssr_mode": False, "css": CSS, "footer_links": [],
              "theme": theme(), "head": page_language_head(settings.ui_language)}
    # The open part first: a mount at "/" would otherwise swallow "/public". It has no upload field, and
    # Gradio's upload route would otherwise store anyone's files (up to max_upload_bytes each): allow none.
    # Spoken accounts on the open report page need it, only when turned on, and only up to their own limit.
    public_uploads = settings.public_report_max_upload_bytes if settings.public_report_audio else 0
    app = gr.mount_gradio_app(app, public, PUBLIC_PATH, **(common | {"max_file_size": public_uploads}))
    login_message = escape(t("app.login_message", settings.ui_language))
    if is_configured(settings):  # "Log ind med <provider>" beside the local accounts; before the mount at "/"
        sso = SingleSignOn(settings, runtime.db)
        login_message += sso_login_link(sso, settings.ui_language)
        app.include_router(sso_routes(sso, ctx.sessions, login_cookie_id(settings), settings.ui_language))

    def first_admin_created() -> None:
        main.auth_message = login_message

    # Before the mount at "/", which would otherwise swallow "/setup".
    app.include_router(setup_routes(ctx.first_admin, settings.ui_language, first_admin_created))
    # The REST API, likewise before "/": tokens instead of logins, its own schema and JSON errors.
    app.mount(API_PATH, api_app(ctx))
    install_not_found_beside(app, settings.ui_language)
    app = gr.mount_gradio_app(app, main, "/", auth=ctx.login, auth_message=login_message_for(runtime, login_message),
                               **common)
    served = _mounted_gradio(app, main)
    served.tokens = ctx.sessions  # kept in the store; logins end after settings.session_hours
    served.cookie_id = login_cookie_id(settings)
    return app, ctx


def login_message_for(runtime: Runtime, login_message: str) -> str:
    """The login page's text; while the store has no account, it says where the first administrator comes from."""
    if has_users(runtime.db):
        return login_message
    hint = escape(translate("onboarding.login_hint", runtime.settings.ui_language))
    return f"{login_message}<br><br><strong>{hint}</strong>"


def first_admin_link_text(ctx: AppContext, settings: Settings) -> str | None:
    """What ``debrief serve`` prints once when the store has no account: the one-time link, else None."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    link = ctx.first_admin.issue(f"http://{host}:{settings.port}")
    if link is None:
        return None
    language = settings.ui_language
    expires = link.expires_at.strftime("%Y-%m-%d %H:%M")
    return "\n".join([translate("onboarding.console_link", language, expires=expires), f"    {link.url}",
                      translate("onboarding.console_alternative", language)])


def login_cookie_id(settings: Settings) -> str:
    """Gradio names its login cookie after a random id per process, which would log everyone out at a restart;
    an id derived from the installation keeps the name (the name is no secret; the token is)."""
    where = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    return hashlib.sha256(f"debrief-login:{where}".encode()).hexdigest()[:32]


def _mounted_gradio(app: FastAPI, blocks: gr.Blocks):
    """The Gradio server app serving ``blocks`` inside ``app`` (it keeps the login tokens)."""
    for route in app.routes:
        served = getattr(route, "app", None)
        if served is not None and getattr(served, "blocks", None) is blocks:
            return served
    raise RuntimeError("the logged-in app is not mounted")


def serve(settings: Settings) -> None:
    """``debrief serve``: start the worker and the web app on settings.host:settings.port."""
    import uvicorn

    from assistant.indexing import recover_index

    runtime = Runtime.create(settings)
    recover_index(runtime.db, runtime.index)  # a crash mid-approval may have left the index one step ahead
    runtime.start_worker()
    app, ctx = create_app(runtime)
    if (first_admin := first_admin_link_text(ctx, settings)) is not None:
        print(f"\n{first_admin}\n", flush=True)  # shown once, on the console, not through logging
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
    finally:
        runtime.stop()
