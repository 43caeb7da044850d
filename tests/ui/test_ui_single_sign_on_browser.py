"""Single sign-on end to end in headless Chromium: the login page's "Log ind med …" link, the provider's own login
form (oidc-provider-mock on a loopback port), and back in Debrief logged in with the role the provider's groups
map to. The app runs whole under uvicorn (no model is loaded); the protocol's details are in
test_ui_single_sign_on.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from assistant.i18n import translate
from assistant.jobs import Components, Runtime
from tests.support.servers import app_in_thread
from tests.ui.test_ui_browser import browser, page  # noqa: F401 - pytest fixtures
from tests.ui.test_ui_single_sign_on import identity_provider, person_at, settings_for


@dataclass
class SsoSite:
    url: str  # Debrief
    issuer: str  # the identity provider
    runtime: Runtime


@pytest.fixture(scope="module")
def sso_site(tmp_path_factory) -> Iterator[SsoSite]:
    from ui.app import create_app

    with identity_provider() as issuer:
        settings = settings_for(tmp_path_factory.mktemp("sso-browser"), issuer)
        runtime = Runtime.create(settings, Components(settings))
        app, _ = create_app(runtime)
        try:
            with app_in_thread(app, name="debrief-sso-browser") as url:
                yield SsoSite(url=url, issuer=issuer, runtime=runtime)
        finally:
            runtime.stop()


def test_a_person_logs_in_at_the_regions_provider_and_sees_their_mapped_role(sso_site, page: Page, artifacts_dir):
    person_at(sso_site.issuer, "sub-lise-7", preferred_username="lise.k", name="Lise K",
              groups=["alle", "patientsikkerhed"])

    page.goto(sso_site.url + "/")
    page.get_by_role("link", name=translate("sso.log_in_with", "da", provider="Region Test")).click()

    page.wait_for_url(f"{sso_site.issuer}/**")  # the provider's own page, not Debrief's
    page.get_by_placeholder("sub").first.fill("sub-lise-7")
    page.screenshot(path=artifacts_dir / "ui-sso-provider.png")
    page.get_by_role("button", name="Authorize").click()

    who = page.locator("#db-who")
    expect(who).to_contain_text("lise.k")
    expect(who).to_contain_text(translate("ui.role.learning_agent", "da"))
    assert page.url.startswith(sso_site.url)
    page.screenshot(path=artifacts_dir / "ui-sso-logged-in.png")
