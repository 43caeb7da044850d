"""Single sign-on against a real OpenID Connect provider: oidc-provider-mock runs in a thread on a loopback port
and signs its ID tokens with its own key (served as JWKS); Debrief fetches its discovery document, keys and tokens
over HTTP like it would the region's. The app runs whole in a TestClient (no model is loaded).

The provider's login form is driven with plain HTTP: choosing a subject there is "the person logs in".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from oidc_provider_mock import run_server_in_thread
from sqlalchemy import select

from assistant.auth import Role, actor_by_name, add_user, authenticate
from assistant.errors import LoginRefused
from assistant.i18n import translate
from assistant.jobs import Components, Runtime
from assistant.settings import Settings
from assistant.sso import SingleSignOn
from assistant.store.tables import AuditEvent, OidcIdentity, User

PASSWORD = "korrekt-hest-batteri"
CLIENT_ID = "debrief"
ROLE_MAP = {"debrief-admins": "admin", "sygeplejersker": "staff", "patientsikkerhed": "learning_agent"}


@contextmanager
def identity_provider(token_lifetime: timedelta = timedelta(hours=1)) -> Iterator[str]:
    """A real OIDC provider on a free loopback port; yields its issuer URL."""
    with run_server_in_thread(port=0, access_token_max_age=token_lifetime) as server:
        yield f"http://localhost:{server.server_port}"


def person_at(issuer: str, subject: str, **claims) -> None:
    """Register a person at the provider with their claims (groups, name …)."""
    httpx.put(f"{issuer}/users/{subject}", json=claims).raise_for_status()


def settings_for(tmp_path, issuer: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", cpu_threads=2, oidc_issuer=issuer, oidc_client_id=CLIENT_ID,
                    oidc_client_secret="hemmelig", oidc_provider_name="Region Test", oidc_role_map=ROLE_MAP)


@contextmanager
def app_for(settings: Settings) -> Iterator[tuple[TestClient, Runtime]]:
    from ui.app import create_app

    runtime = Runtime.create(settings, Components(settings))
    app, _ = create_app(runtime)
    with TestClient(app) as client:
        yield client, runtime


@pytest.fixture
def provider() -> Iterator[str]:
    with identity_provider() as issuer:
        yield issuer


@pytest.fixture
def sso_app(tmp_path, provider):
    with app_for(settings_for(tmp_path, provider)) as (client, runtime):
        yield client, runtime, provider


def log_in_with_provider(client: TestClient, subject: str) -> httpx.Response:
    """Click "Log ind med …", log in at the provider as ``subject``, follow it back; the callback's answer."""
    started = client.get("/sso/login", follow_redirects=False)
    assert started.status_code == 302, started.text
    at_provider = httpx.post(started.headers["location"], data={"sub": subject}, follow_redirects=False)
    assert at_provider.status_code == 302, at_provider.text
    return client.get(at_provider.headers["location"], follow_redirects=False)


def is_logged_in(client: TestClient) -> bool:
    return client.get("/gradio_api/login_check").status_code == 200


def audited(runtime: Runtime, action: str) -> list[AuditEvent]:
    with runtime.db.session() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()
        session.expunge_all()
        return list(rows)


def id_token_for(issuer: str, client_id: str, subject: str, nonce: str) -> str:
    """An ID token the provider signs for ``client_id`` (another application, when it is not ours)."""
    redirect = "http://localhost/callback"
    authorize = httpx.post(f"{issuer}/oauth2/authorize", params={
        "client_id": client_id, "redirect_uri": redirect, "response_type": "code", "scope": "openid",
        "state": "s", "nonce": nonce}, data={"sub": subject}, follow_redirects=False)
    code = parse_qs(urlsplit(authorize.headers["location"]).query)["code"][0]
    token = httpx.post(f"{issuer}/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "client_id": client_id,
        "client_secret": "theirs"})
    token.raise_for_status()
    return token.json()["id_token"]


def test_the_login_page_offers_the_regions_provider_beside_local_accounts(sso_app):
    client, _, _ = sso_app
    message = client.get("/gradio_api/login_check").json()["detail"]["auth_message"]
    assert 'href="/sso/login"' in message
    assert translate("sso.log_in_with", "da", provider="Region Test") in message


def test_login_through_the_provider_ends_logged_in_with_the_mapped_role(sso_app):
    client, runtime, issuer = sso_app
    person_at(issuer, "sub-anna-1", preferred_username="anna.b", name="Anna B", groups=["alle", "debrief-admins"])

    started = client.get("/sso/login", follow_redirects=False)
    asked = parse_qs(urlsplit(started.headers["location"]).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["code_challenge"][0]
    assert asked["nonce"][0] and asked["state"][0] and asked["client_id"] == [CLIENT_ID]

    back = log_in_with_provider(client, "sub-anna-1")
    assert back.status_code == 302 and back.headers["location"] == "/"
    assert is_logged_in(client)
    assert client.get("/gradio_api/user").json() == "anna.b"
    actor = actor_by_name(runtime.db, "anna.b")
    assert actor.role == Role.admin
    with runtime.db.session() as session:
        link = session.get(OidcIdentity, (issuer, "sub-anna-1"))
        assert link is not None and link.user_id == actor.user_id
        assert session.get(User, actor.user_id).password_hash == "", "an account made by single sign-on has no password"
    assert [e.actor for e in audited(runtime, "sso_user_created")] == ["anna.b"]
    assert [e.after["role"] for e in audited(runtime, "sso_login")] == ["admin"]


def test_the_next_login_reuses_the_account_and_follows_the_providers_groups(sso_app):
    client, runtime, issuer = sso_app
    person_at(issuer, "sub-bo", preferred_username="bo", groups=["sygeplejersker"])
    assert log_in_with_provider(client, "sub-bo").status_code == 302
    assert actor_by_name(runtime.db, "bo").role == Role.staff

    person_at(issuer, "sub-bo", preferred_username="bo", groups=["sygeplejersker", "patientsikkerhed"])
    client.cookies.clear()
    assert log_in_with_provider(client, "sub-bo").status_code == 302
    assert actor_by_name(runtime.db, "bo").role == Role.learning_agent, "the strongest mapped role wins"
    with runtime.db.session() as session:
        assert len(session.scalars(select(User)).all()) == 1


def test_a_person_without_a_mapped_role_is_refused_with_a_translated_message(sso_app):
    client, runtime, issuer = sso_app
    person_at(issuer, "sub-kim", preferred_username="kim", groups=["kantine"])

    back = log_in_with_provider(client, "sub-kim")
    assert back.status_code == 403
    assert translate("sso.no_role", "da", provider="Region Test") in back.text.replace("&#x27;", "'")
    assert not is_logged_in(client)
    assert actor_by_name(runtime.db, "kim") is None, "no account is made for someone who may not use Debrief"
    refused = audited(runtime, "sso_login_refused")
    assert [(e.actor, e.after["subject"], e.after["reason"]) for e in refused] == [("kim", "sub-kim", "no mapped role")]


def test_a_callback_is_good_once_and_only_in_the_browser_that_started_it(sso_app):
    client, _, issuer = sso_app
    person_at(issuer, "sub-eva", preferred_username="eva", groups=["sygeplejersker"])
    started = client.get("/sso/login", follow_redirects=False)
    callback = httpx.post(started.headers["location"], data={"sub": "sub-eva"},
                          follow_redirects=False).headers["location"]

    with TestClient(client.app) as other_browser:  # no state cookie: a link made for someone else's login
        stolen = other_browser.get(callback, follow_redirects=False)
        assert stolen.status_code == 403 and not is_logged_in(other_browser)
    assert client.get(callback, follow_redirects=False).status_code == 403, "the state was spent by the try above"
    assert not is_logged_in(client)


def test_a_local_account_with_the_same_name_is_not_taken_over(sso_app):
    client, runtime, issuer = sso_app
    local = add_user(runtime.db, "mette", Role.reporter, PASSWORD)
    person_at(issuer, "sub-mette", preferred_username="mette", groups=["debrief-admins"])

    assert log_in_with_provider(client, "sub-mette").status_code == 302
    assert client.get("/gradio_api/user").json() == "mette (2)"
    assert actor_by_name(runtime.db, "mette").role == Role.reporter
    assert actor_by_name(runtime.db, "mette").user_id == local.user_id


def test_the_local_password_login_still_works_beside_single_sign_on(sso_app):
    client, runtime, issuer = sso_app
    add_user(runtime.db, "lokal", Role.staff, PASSWORD)
    assert client.post("/login", data={"username": "lokal", "password": "forkert-kodeord"}).status_code == 400
    assert not is_logged_in(client)
    assert client.post("/login", data={"username": "lokal", "password": PASSWORD}).status_code == 200
    assert is_logged_in(client) and client.get("/gradio_api/user").json() == "lokal"

    person_at(issuer, "sub-ole", preferred_username="ole", groups=["sygeplejersker"])
    log_in_with_provider(client, "sub-ole")
    client.cookies.clear()
    for guess in ("", PASSWORD):
        assert authenticate(runtime.db, "ole", guess) is None, "an account made by single sign-on has no password"
    assert client.post("/login", data={"username": "ole", "password": PASSWORD}).status_code == 400


def test_an_id_token_issued_to_another_application_is_refused(sso_app):
    _, runtime, issuer = sso_app
    sso = SingleSignOn(runtime.settings, runtime.db)
    person_at(issuer, "sub-anna-2", preferred_username="anna", groups=["debrief-admins"])
    theirs = id_token_for(issuer, "another-application", "sub-anna-2", nonce="n-1")
    assert sso.verify_id_token(id_token_for(issuer, CLIENT_ID, "sub-anna-2", nonce="n-1"), "n-1")["sub"] == "sub-anna-2"

    with pytest.raises(LoginRefused) as refused:
        sso.verify_id_token(theirs, "n-1")
    assert "aud" in refused.value.params["reason"]
    assert actor_by_name(runtime.db, "anna") is None


def test_an_id_token_with_another_nonce_is_refused(sso_app):
    _, runtime, issuer = sso_app
    sso = SingleSignOn(runtime.settings, runtime.db)
    person_at(issuer, "sub-per", preferred_username="per", groups=["debrief-admins"])
    with pytest.raises(LoginRefused) as refused:
        sso.verify_id_token(id_token_for(issuer, CLIENT_ID, "sub-per", nonce="replayed"), "ours")
    assert "nonce" in refused.value.params["reason"]


def test_an_expired_id_token_is_refused_and_nobody_is_logged_in(tmp_path):
    # The provider itself issues tokens that expired ten minutes ago (far beyond the allowed clock skew).
    with identity_provider(token_lifetime=timedelta(minutes=-10)) as issuer, \
            app_for(settings_for(tmp_path, issuer)) as (client, runtime):
        person_at(issuer, "sub-lise", preferred_username="lise", groups=["debrief-admins"])
        back = log_in_with_provider(client, "sub-lise")
        assert back.status_code == 403
        assert translate("sso.refused", "da", provider="Region Test", reason="expired_token: exp") in back.text
        assert not is_logged_in(client)
        assert actor_by_name(runtime.db, "lise") is None
        assert [e.after["reason"] for e in audited(runtime, "sso_login_refused")] == ["id token: expired_token: exp"]


def test_an_unreachable_provider_is_said_plainly_and_local_logins_go_on(tmp_path):
    with identity_provider() as issuer:
        pass  # the provider stopped: its port answers nobody now
    with app_for(settings_for(tmp_path, issuer)) as (client, runtime):
        answer = client.get("/sso/login", follow_redirects=False)
        assert answer.status_code == 503
        assert translate("sso.provider_unavailable", "da", provider="Region Test") in answer.text
        add_user(runtime.db, "lokal", Role.staff, PASSWORD)
        assert client.post("/login", data={"username": "lokal", "password": PASSWORD}).status_code == 200


def test_without_single_sign_on_settings_the_login_page_offers_only_local_accounts(tmp_path):
    with app_for(Settings(data_dir=tmp_path / "data", cpu_threads=2)) as (client, _):
        assert "/sso/login" not in client.get("/gradio_api/login_check").json()["detail"]["auth_message"]
        assert client.get("/sso/login", follow_redirects=False).status_code != 302
