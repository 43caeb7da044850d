"""A fresh installation in the browser: the login page says where the first administrator comes from, and the
one-time link `debrief serve` prints opens a form that creates that administrator, once."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from assistant.auth import Role, add_user
from assistant.i18n import translate
from assistant.jobs import Components, Runtime
from assistant.settings import Settings

PASSWORD = "korrekt-hest-batteri"


@pytest.fixture
def fresh_app(tmp_path):
    """The whole app on an empty store (no models are loaded: nothing here needs one)."""
    from ui.app import create_app

    settings = Settings(data_dir=tmp_path / "data", cpu_threads=2)
    runtime = Runtime.create(settings, Components(settings))
    app, ctx = create_app(runtime)
    with TestClient(app) as client:
        yield client, ctx, runtime


def login_page_message(client: TestClient) -> str:
    """What Gradio's login page shows above the form (the page asks for it while nobody is logged in)."""
    answer = client.get("/gradio_api/login_check")
    assert answer.status_code == 401
    return answer.json()["detail"]["auth_message"]


def test_the_login_page_tells_where_to_look_while_there_is_no_account(fresh_app):
    client, _, _ = fresh_app
    assert "debrief serve" in login_page_message(client)
    assert translate("onboarding.login_hint", "da").split("?")[0] in login_page_message(client)


def test_the_printed_link_creates_the_first_administrator_once(fresh_app):
    from ui.app import first_admin_link_text

    client, ctx, runtime = fresh_app
    printed = first_admin_link_text(ctx, runtime.settings)
    url = re.search(r"http://\S+", printed).group(0)
    path = url.removeprefix(f"http://127.0.0.1:{runtime.settings.port}")
    token = path.split("token=")[1]

    form = client.get(path)
    assert form.status_code == 200 and 'name="password_again"' in form.text
    assert form.headers["referrer-policy"] == "no-referrer"

    created = client.post("/setup", data={"token": token, "name": "admin", "password": PASSWORD,
                                          "password_again": PASSWORD})
    assert created.status_code == 200, created.text
    assert ctx.login("admin", PASSWORD)
    assert "debrief serve" not in login_page_message(client), "the hint goes once the account exists"

    again = client.post("/setup", data={"token": token, "name": "mallory", "password": PASSWORD,
                                        "password_again": PASSWORD})
    assert again.status_code == 403
    assert not ctx.login("mallory", PASSWORD)
    assert client.get(path).status_code == 403
    assert first_admin_link_text(ctx, runtime.settings) is None, "a restart prints no link once there is an account"


def test_a_form_mistake_is_shown_and_keeps_the_link(fresh_app):
    from ui.app import first_admin_link_text

    client, ctx, runtime = fresh_app
    token = first_admin_link_text(ctx, runtime.settings).split("token=")[1].split()[0]
    differ = client.post("/setup", data={"token": token, "name": "admin", "password": PASSWORD,
                                         "password_again": PASSWORD + "x"})
    assert differ.status_code == 422
    assert translate("onboarding.passwords_differ", "da") in differ.text
    assert client.get(f"/setup?token={token}").status_code == 200


def test_a_wrong_link_is_refused(fresh_app):
    client, _, _ = fresh_app
    assert client.get("/setup?token=gæt").status_code == 403
    assert client.post("/setup", data={"token": "", "name": "x", "password": PASSWORD,
                                       "password_again": PASSWORD}).status_code == 403


def test_no_hint_on_an_installation_with_accounts(tmp_path):
    from ui.app import create_app

    settings = Settings(data_dir=tmp_path / "data", cpu_threads=2)
    runtime = Runtime.create(settings, Components(settings))
    add_user(runtime.db, "anne", Role.learning_agent, PASSWORD)
    app, _ = create_app(runtime)
    with TestClient(app) as client:
        assert "debrief serve" not in login_page_message(client)
